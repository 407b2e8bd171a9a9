"""Batch workers: a loop of its own for one job kind whose jobs are cheaper run many at
a time (message dispatch, provider webhooks): claimed together, run by one handler,
finished in one statement.

The jobs are claimed highest priority first, and up to ``max_in_flight`` of them run at
once: a new batch is claimed as soon as there is room for one, so priorities are read
again every batch and an urgent job never waits behind a backlog; the room left beside
the running batches takes high-priority jobs alone, so they need not wait for a batch
to come back either.
"""

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.core.db import is_database_unavailable, urgent_writes
from omniroute.jobs import queue
from omniroute.jobs.registry import BatchHandler
from omniroute.jobs.worker import Worker

log = logging.getLogger(__name__)


class BatchWorker(Worker):
    def __init__(
        self,
        services: object,
        *,
        kind: str,
        handler: BatchHandler,
        batch_size: int,
        max_in_flight: int,
        poll_interval: float,
        lease: float,
    ) -> None:
        super().__init__(
            services, concurrency=max_in_flight, poll_interval=poll_interval, lease=lease, only=(kind,)
        )
        self.kind = kind
        self.handler = handler
        self.batch_size = min(batch_size, max_in_flight)
        self._in_flight = 0

    async def _claim(self, limit: int, most_urgent: int | None) -> list[queue.ClaimedJob]:
        # A claim woken by a commit that enqueued work (an accepted one-time code) takes
        # the next SQLite writer turn (``core.db.urgent_writes``); the claims that follow
        # a batch or a poll wait their turn, so bulk dispatch does not crowd out the other
        # workers' transactions (a campaign's run, the network's statuses).
        urgent_writes.set(self._woken)
        return await super()._claim(limit, most_urgent)

    def _claim_scope(self) -> tuple[int, int | None]:
        """A whole batch when there is room for one; with less room, only high-priority
        jobs, so a one-time code never waits for a bulk batch to come back."""
        room = self.concurrency - self._in_flight
        if room >= self.batch_size:
            return self.batch_size, None
        return room, queue.PRIORITY_HIGH

    def _start(self, claimed: list[queue.ClaimedJob]) -> list[Coroutine[Any, Any, None]]:
        self._in_flight += len(claimed)
        return [self._run_batch(claimed)]

    async def _run_batch(self, jobs: list[queue.ClaimedJob]) -> None:
        # A batch with a job of a priority lane above bulk (a one-time code, a reply)
        # writes ahead of queued ordinary transactions on SQLite (this task only).
        urgent_writes.set(any(job.priority < queue.PRIORITY_BULK for job in jobs))
        try:
            retries = await self.handler(self.services, jobs)
        except Exception as exc:
            # Nothing of the batch was recorded: run its jobs one by one, each with the
            # worker's own handling (again soon at no cost after an outage, back-off,
            # bury), so a job that fails every time holds up no other.
            if is_database_unavailable(exc):
                log.warning("a batch of %d %s jobs: %s; running them one by one", len(jobs), self.kind, exc)
            else:
                log.exception("a batch of %d %s jobs failed; running them one by one", len(jobs), self.kind)
            await asyncio.gather(*(self._execute(job) for job in jobs))
            return
        finally:
            self._in_flight -= len(jobs)
        done = [job.id for job in jobs if job.id not in retries]

        async def record(session: AsyncSession) -> None:
            await queue.finish_many(session, done, self.id)
            await queue.reschedule_many(
                session, {job_id: (retry.delay, str(retry)) for job_id, retry in retries.items()}, self.id
            )

        await self._record(f"a batch of {len(jobs)} {self.kind} jobs", record)
