"""Notifications to open widgets ("visitor X has something new"), across API processes.

A stream subscribes for its visitor; whoever changes the conversation (the dispatcher
handing over a reply, a visitor's message from another tab) publishes. A notification
only wakes streams up: they read what is new from the database, and also look every few
seconds without one, so a notification lost (a listener reconnecting, a worker process
on SQLite) delays a message, never loses it.

- PostgreSQL: ``LISTEN``/``NOTIFY`` on one channel, one listening asyncpg connection per
  process (opened while it has subscribers), so a reply dispatched by any process reaches
  a visitor streaming from any other, with no broker to run. Why not Redis: see
  docs/scaling.md.
- SQLite (one process): an in-process fan-out."""

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.core.db import Database, connect_postgres

log = logging.getLogger(__name__)

PG_CHANNEL = "omniroute_webchat"
RECONNECT_SECONDS = 1.0

Note = dict[str, Any]


class Broker:
    """The in-process fan-out (SQLite, and the local half of the PostgreSQL broker)."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[Note]]] = {}

    @contextlib.contextmanager
    def subscribe(self, visitor_id: str) -> Iterator["asyncio.Queue[Note]"]:
        queue: asyncio.Queue[Note] = asyncio.Queue(maxsize=100)
        self._queues.setdefault(visitor_id, set()).add(queue)
        self._started()
        try:
            yield queue
        finally:
            queues = self._queues.get(visitor_id, set())
            queues.discard(queue)
            if not queues:
                self._queues.pop(visitor_id, None)

    def deliver_locally(self, note: Note) -> None:
        for queue in self._queues.get(str(note.get("visitor")), ()):
            with contextlib.suppress(asyncio.QueueFull):  # a stream that far behind re-reads anyway
                queue.put_nowait(note)

    async def publish(self, visitor_id: str, **fields: Any) -> None:
        self.deliver_locally({"visitor": visitor_id, **fields})

    async def publish_on_commit(
        self, session: AsyncSession, after_commit: list[Callable[[], None]], visitor_id: str, **fields: Any
    ) -> None:
        """Publish once the request's transaction commits (never for a rolled-back one)."""
        note = {"visitor": visitor_id, **fields}
        after_commit.append(lambda: self.deliver_locally(note))

    @property
    def subscribers(self) -> int:
        return sum(len(queues) for queues in self._queues.values())

    def _started(self) -> None:
        """A subscriber arrived (the PostgreSQL broker starts listening)."""

    async def close(self) -> None:
        """Stop listening (nothing to do in process)."""


class PostgresBroker(Broker):
    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db
        self._listener: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    def _started(self) -> None:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name="webchat-listen")

    async def publish(self, visitor_id: str, **fields: Any) -> None:
        """NOTIFY every process (this one too: its listener hears it like the others)."""
        payload = json.dumps({"visitor": visitor_id, **fields}, separators=(",", ":"))
        async with self.db.engine.begin() as connection:
            await connection.execute(
                text("SELECT pg_notify(:channel, :payload)"), {"channel": PG_CHANNEL, "payload": payload}
            )

    async def publish_on_commit(
        self, session: AsyncSession, after_commit: list[Callable[[], None]], visitor_id: str, **fields: Any
    ) -> None:
        """PostgreSQL sends a NOTIFY when its transaction commits, and only then."""
        payload = json.dumps({"visitor": visitor_id, **fields}, separators=(",", ":"))
        await session.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": PG_CHANNEL, "payload": payload}
        )

    async def _listen(self) -> None:
        import asyncpg

        while self.subscribers:
            lost = asyncio.Event()
            try:
                connection = await connect_postgres(self.db.url)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("web chat: cannot listen for notifications (%s); retrying", exc)
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            try:
                connection.add_termination_listener(lambda _connection, lost=lost: lost.set())
                await connection.add_listener(PG_CHANNEL, self._on_notify)
                self.listening.set()
                while self.subscribers and not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), RECONNECT_SECONDS)
            finally:
                self.listening.clear()
                with contextlib.suppress(Exception):
                    await connection.close()

    def _on_notify(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            note = json.loads(payload)
        except ValueError:
            return
        if isinstance(note, dict):
            self.deliver_locally(note)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener


def broker_for(db: Database) -> Broker:
    return Broker() if db.is_sqlite else PostgresBroker(db)
