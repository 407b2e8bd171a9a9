"""The worker loop: claim due jobs, run their handlers concurrently, record the outcome."""

import asyncio
import logging
import os
import socket
import time
import traceback

from omniroute.core.ids import new_id
from omniroute.jobs import queue
from omniroute.jobs.registry import JobContext, RetryLater, handler_for, recurring_kinds

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 3600.0


def backoff(attempt: int) -> float:
    return float(min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempt - 1)))


class Worker:
    def __init__(self, services: object, *, concurrency: int, poll_interval: float, lease: float):
        from omniroute.services import Services

        assert isinstance(services, Services)
        self.services = services
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.lease = lease
        self.id = f"{socket.gethostname()}:{os.getpid()}:{new_id('w')[-8:]}"
        self._wakeup = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """Called after a commit that enqueued jobs, so they start without waiting for a poll."""
        self._wakeup.set()

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker %s started (concurrency %d)", self.id, self.concurrency)
        await self._ensure_recurring_jobs()
        while not stop.is_set():
            free = self.concurrency - len(self._running)
            claimed: list[queue.ClaimedJob] = []
            if free > 0:
                try:
                    async with self.services.db.transaction() as session:
                        claimed = await queue.claim(session, self.id, free, self.lease)
                except Exception:
                    log.exception("claiming jobs failed; retrying after a poll interval")
            for job in claimed:
                task = asyncio.create_task(self._execute(job))
                self._running.add(task)
                task.add_done_callback(self._done)
            if len(claimed) == free and free > 0:
                continue  # there may be more due work: claim again at once
            self._wakeup.clear()
            waiters = [asyncio.create_task(self._wakeup.wait()), asyncio.create_task(stop.wait())]
            await asyncio.wait(waiters, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        log.info("worker %s stopped", self.id)

    async def _ensure_recurring_jobs(self) -> None:
        async with self.services.db.transaction() as session:
            for kind in recurring_kinds():
                await queue.ensure_recurring(session, kind)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wakeup.set()  # a slot is free

    async def _execute(self, job: queue.ClaimedJob) -> None:
        db = self.services.db
        handler = handler_for(job.kind)
        started = time.monotonic()
        try:
            if handler is None:
                raise LookupError(f"no handler registered for job kind {job.kind!r}")
            await handler(JobContext(db, self.services, job.attempts), job.payload)
        except RetryLater as retry:
            async with db.transaction() as session:
                await queue.reschedule(session, job.id, self.id, delay=retry.delay, error=str(retry))
            return
        except Exception:
            error = traceback.format_exc(limit=8)
            log.exception("job %s (%s) failed on attempt %d", job.id, job.kind, job.attempts)
            async with db.transaction() as session:
                if job.attempts >= job.max_attempts:
                    await queue.bury(session, job.id, self.id, error)
                else:
                    await queue.reschedule(session, job.id, self.id, delay=backoff(job.attempts), error=error)
            return
        async with db.transaction() as session:
            await queue.finish(session, job.id, self.id)
        log.debug("job %s (%s) done in %.3fs", job.id, job.kind, time.monotonic() - started)
