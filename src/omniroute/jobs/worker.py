"""The worker loop: claim due jobs, run their handlers concurrently, record the outcome."""

import asyncio
import logging
import os
import socket
import time
import traceback
from collections.abc import Awaitable, Callable, Collection, Coroutine
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.core.db import is_database_unavailable, when_available
from omniroute.core.ids import new_id
from omniroute.jobs import queue
from omniroute.jobs.registry import JobContext, RetryLater, handler_for, recurring_kinds

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 3600.0
OUTAGE_RETRY_SECONDS = 1.0
"""A job whose handler found the database unavailable runs again this soon, without
using up an attempt: the outage was not the job's fault."""


def backoff(attempt: int) -> float:
    return float(min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempt - 1)))


class Worker:
    def __init__(
        self,
        services: object,
        *,
        concurrency: int,
        poll_interval: float,
        lease: float,
        only: Collection[str] = (),
        excluding: Collection[str] = (),
    ):
        """``only``/``excluding``: the job kinds this loop claims, or leaves to a loop of
        their own (message dispatch)."""
        from omniroute.services import Services

        assert isinstance(services, Services)
        self.services = services
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.lease = lease
        self.only = only
        self.excluding = excluding
        self.id = f"{socket.gethostname()}:{os.getpid()}:{new_id('w')[-8:]}"
        self._wakeup = asyncio.Event()
        self._woken = False
        """Whether this claim follows a wake-up (a commit that enqueued work) rather than a poll."""
        self._running: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()
        self._database_down = False

    def wake(self) -> None:
        """Called after a commit that enqueued jobs, so they start without waiting for a poll."""
        self._wakeup.set()

    async def run(self, stop: asyncio.Event) -> None:
        log.info("%s %s started (concurrency %d)", type(self).__name__, self.id, self.concurrency)
        self._stop = stop
        await self._ensure_recurring_jobs()
        while not stop.is_set():
            limit, most_urgent = self._claim_scope()
            claimed: list[queue.ClaimedJob] = []
            # Cleared before claiming, so a wake-up that comes while the claim runs (a
            # commit that enqueued a job this claim did not see) is not lost.
            self._woken = self._wakeup.is_set()
            self._wakeup.clear()
            if limit > 0:
                claimed = await self._claim(limit, most_urgent)
            if claimed:
                for work in self._start(claimed):
                    task = asyncio.create_task(work)
                    self._running.add(task)
                    task.add_done_callback(self._done)
            if claimed and len(claimed) == limit:
                continue  # there may be more due work: claim again at once
            waiters = [asyncio.create_task(self._wakeup.wait()), asyncio.create_task(stop.wait())]
            await asyncio.wait(waiters, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        log.info("%s %s stopped", type(self).__name__, self.id)

    def _claim_scope(self) -> tuple[int, int | None]:
        """How many jobs to claim now (one per free slot), and the lowest priority to claim
        (None: any)."""
        return self.concurrency - len(self._running), None

    def _start(self, claimed: list[queue.ClaimedJob]) -> list[Coroutine[Any, Any, None]]:
        """The work to run for the claimed jobs: each job on its own."""
        return [self._execute(job) for job in claimed]

    async def _claim(self, limit: int, most_urgent: int | None) -> list[queue.ClaimedJob]:
        try:
            async with self.services.db.transaction() as session:
                claimed = await queue.claim(
                    session,
                    self.id,
                    limit,
                    self.lease,
                    only=self.only,
                    excluding=self.excluding,
                    up_to_priority=most_urgent,
                )
        except Exception as exc:
            if not is_database_unavailable(exc):
                log.exception("claiming jobs failed; retrying after a poll interval")
            elif not self._database_down:
                self._database_down = True
                log.warning("worker %s: database unavailable (%s); polling until it is back", self.id, exc)
            return []
        if self._database_down:
            self._database_down = False
            log.warning("worker %s: database available again", self.id)
        return claimed

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
            delay, reason = retry.delay, str(retry)
            await self._record(
                _label(job),
                lambda session: queue.reschedule(session, job.id, self.id, delay=delay, error=reason),
            )
            return
        except Exception as exc:
            error = traceback.format_exc(limit=8)
            if is_database_unavailable(exc):
                log.warning(
                    "job %s (%s): database unavailable; retrying in %gs",
                    job.id,
                    job.kind,
                    OUTAGE_RETRY_SECONDS,
                )
                await self._record(
                    _label(job),
                    lambda session: queue.reschedule(
                        session, job.id, self.id, delay=OUTAGE_RETRY_SECONDS, error=error, count_attempt=False
                    ),
                )
                return
            log.exception("job %s (%s) failed on attempt %d", job.id, job.kind, job.attempts)
            if job.attempts >= job.max_attempts:
                await self._record(_label(job), lambda session: queue.bury(session, job.id, self.id, error))
            else:
                delay = backoff(job.attempts)
                await self._record(
                    _label(job),
                    lambda session: queue.reschedule(session, job.id, self.id, delay=delay, error=error),
                )
            return
        await self._record(_label(job), lambda session: queue.finish(session, job.id, self.id))
        log.debug("job %s (%s) done in %.3fs", job.id, job.kind, time.monotonic() - started)

    async def _record(self, label: str, action: Callable[[AsyncSession], Awaitable[None]]) -> None:
        """Record a job's outcome (finish, reschedule, bury). While the database is
        unavailable, try again with back-off, so the outcome is recorded as soon as it is
        back instead of the job staying locked until its lease runs out. Gives up only
        when the lease has run out anyway (the job is then claimable again, and handlers
        are safe to re-run) or the worker is stopping."""

        async def record() -> None:
            async with self.services.db.transaction() as session:
                await action(session)

        try:
            await when_available(record, give_up_after=self.lease, stop=self._stop)
        except Exception as exc:
            if not is_database_unavailable(exc):
                log.exception("%s: could not record its outcome", label)
                return
            log.warning(
                "%s: outcome not recorded (database unavailable); it runs again when its lease ends", label
            )


def _label(job: queue.ClaimedJob) -> str:
    return f"job {job.id} ({job.kind})"
