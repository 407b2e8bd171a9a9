"""Wake worker loops in other processes as soon as committed jobs are waiting, instead
of at their next poll: PostgreSQL LISTEN/NOTIFY on one channel.

A notification is only a hint. Every loop still polls (``worker_poll_interval``), so a
notification lost while a connection is down costs at most one poll interval, never a
job. SQLite needs none of this: processes sharing one SQLite file poll.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from omniroute.core.db import connect_postgres

if TYPE_CHECKING:
    import asyncpg

log = logging.getLogger(__name__)

CHANNEL = "omniroute_jobs"
MIN_NOTIFY_INTERVAL = 0.02
"""At most one NOTIFY per this many seconds from one process: a burst of commits becomes
one notification, and each notification costs every listening loop one claim query."""
RECONNECT_FIRST_SECONDS = 0.1
RECONNECT_MAX_SECONDS = 5.0


class JobSignal:
    """One process's LISTEN/NOTIFY connection: ``notify()`` after a commit that enqueued
    jobs; ``on_notified(callback)`` for each local worker loop to wake when another
    process notifies. Reconnects with back-off when the connection or the server goes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._pending = asyncio.Event()
        self._callbacks: list[Callable[[], None]] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    def notify(self) -> None:
        """Committed jobs are waiting. Coalesced: returns at once."""
        self._pending.set()

    def on_notified(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="omniroute-job-signal")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        delay = RECONNECT_FIRST_SECONDS
        while not self._stop.is_set():
            try:
                connection = await connect_postgres(self.url)
            except Exception as exc:
                log.debug("job signal: cannot connect (%s); retrying in %gs", exc, delay)
                await self._pause(delay)
                delay = min(delay * 2, RECONNECT_MAX_SECONDS)
                continue
            delay = RECONNECT_FIRST_SECONDS
            try:
                await self._serve(connection)
            except Exception as exc:
                log.warning("job signal: connection lost (%s); reconnecting", exc)
            finally:
                self.connected.clear()
                connection.terminate()

    async def _serve(self, connection: "asyncpg.Connection") -> None:
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        own_pid = connection.get_server_pid()

        def deliver(_connection: Any, pid: int, _channel: str, _payload: str) -> None:
            if pid != own_pid:  # this process already woke its own loops
                self._wake_local()

        await connection.add_listener(CHANNEL, deliver)
        self.connected.set()
        self._wake_local()  # anything notified while this connection was down
        while True:
            await _first_of(self._pending, self._stop, lost)
            if self._stop.is_set() or lost.is_set():
                return
            self._pending.clear()
            await connection.execute(f"NOTIFY {CHANNEL}")
            await self._pause(MIN_NOTIFY_INTERVAL)

    def _wake_local(self) -> None:
        for callback in self._callbacks:
            callback()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)


async def _first_of(*events: asyncio.Event) -> None:
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
