"""Writes request log entries in batches, off the request path.

One insert per batch instead of one transaction per request: the log costs the API
almost nothing under load. Entries wait at most ``FLUSH_INTERVAL`` seconds; the
buffer is flushed on shutdown. While the database is unavailable, unwritten entries
stay in the buffer (up to ``MAX_BUFFERED``) and are written once it is back. A crash
can lose the buffered entries, which a log may afford and a message never could
(messages are never written this way)."""

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy import insert

from omniroute.core.db import Database, is_database_unavailable
from omniroute.requestlog.models import RequestLogEntry

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.25
MAX_BATCH = 500
MAX_BUFFERED = 50_000  # beyond this (a stalled database) new entries are dropped and counted


class RequestLogWriter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._buffer: list[dict[str, Any]] = []
        self._dropped = 0
        self._database_down = False
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def record(self, entry: dict[str, Any]) -> None:
        if len(self._buffer) >= MAX_BUFFERED:
            self._dropped += 1
            return
        self._buffer.append(entry)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="omniroute-request-log")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
        await self.flush()
        if self._buffer:
            log.warning("%d request log entries not written: the database is unavailable", len(self._buffer))

    async def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), FLUSH_INTERVAL)
            await self.flush()

    async def flush(self) -> None:
        while self._buffer:
            batch = self._buffer[:MAX_BATCH]
            try:
                async with self.db.transaction() as session:
                    await session.execute(insert(RequestLogEntry), batch)
            except Exception as exc:  # the log must never break the API
                if is_database_unavailable(exc):
                    if not self._database_down:
                        log.warning("database unavailable: request log entries wait in memory (%s)", exc)
                    self._database_down = True
                    return  # the batch stays buffered; the next flush writes it
                log.exception("could not write %d request log entries", len(batch))
            if self._database_down:
                log.warning("database available again: writing the buffered request log entries")
                self._database_down = False
            del self._buffer[: len(batch)]
        if self._dropped:
            log.warning("request log buffer full: %d entries dropped", self._dropped)
            self._dropped = 0
