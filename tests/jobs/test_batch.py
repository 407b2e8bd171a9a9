"""Batch workers (jobs/batch.py): jobs of one kind claimed together, urgent ones first,
finished or rescheduled together, and a batch that fails as a whole run again job by job
so one bad job holds up no other. Runs on its own migrated SQLite file so the server's
workers stay out of the way."""

import asyncio
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from omniroute.config import Settings
from omniroute.jobs import queue
from omniroute.jobs.batch import BatchWorker
from omniroute.jobs.models import Job
from omniroute.jobs.registry import JobContext, RetryLater, task
from omniroute.migrations.runner import upgrade
from omniroute.services import Services, build_services
from tests.conftest import eventually

KIND = "test.batched"
batches: list[list[str]] = []
single_runs: list[str] = []


bulk_gate = asyncio.Event()
"""Bulk batches wait for it while cleared (a slow provider)."""


async def run_batch(services: Any, jobs: list[queue.ClaimedJob]) -> dict[str, RetryLater]:
    keys = [job.payload["key"] for job in jobs]
    if any(key.startswith("slow") for key in keys):
        await bulk_gate.wait()
    if "poison" in keys and len(keys) > 1:
        raise RuntimeError("one job of this batch breaks the whole batch")
    batches.append(keys)
    return {job.id: RetryLater(60, "asked to wait") for job in jobs if job.payload["key"] == "later"}


@task(KIND)
async def run_one(ctx: JobContext, payload: dict[str, Any]) -> None:
    single_runs.append(payload["key"])
    if payload["key"] == "poison":
        raise RuntimeError("this job breaks every time")


@pytest.fixture
async def services() -> AsyncIterator[Services]:
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'batch.db'}"
    await asyncio.to_thread(upgrade, url)
    services = build_services(Settings(database_url=url))
    batches.clear()
    single_runs.clear()
    bulk_gate.set()
    yield services
    await services.close()


async def enqueue(services: Services, keys: list[str], priority: int = queue.PRIORITY_BULK) -> None:
    async with services.db.transaction() as session:
        for key in keys:
            queue.enqueue(session, KIND, {"key": key}, priority=priority)


async def remaining(services: Services) -> dict[str, Job]:
    async with services.db.sessionmaker() as session:
        jobs = await session.scalars(select(Job).where(Job.kind == KIND))
        return {job.payload["key"]: job for job in jobs}


async def run_until_idle(services: Services, *, batch_size: int = 10) -> None:
    """Run a batch worker until no job of the kind is due any more."""
    worker = BatchWorker(
        services,
        kind=KIND,
        handler=run_batch,
        batch_size=batch_size,
        max_in_flight=batch_size,
        poll_interval=0.02,
        lease=30,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await eventually(
            lambda: remaining(services),
            lambda jobs: all(job.run_at > 1e12 or job.last_error for job in jobs.values()),
        )
    finally:
        stop.set()
        await running


async def test_an_urgent_job_is_in_the_first_batch_whatever_the_backlog(services: Services) -> None:
    await enqueue(services, [f"bulk-{n}" for n in range(35)])
    await enqueue(services, ["urgent"], priority=queue.PRIORITY_HIGH)
    await run_until_idle(services)
    assert batches[0][0] == "urgent"
    assert sorted(key for batch in batches for key in batch) == sorted(
        ["urgent", *(f"bulk-{n}" for n in range(35))]
    )
    assert all(len(batch) <= 10 for batch in batches)
    assert await remaining(services) == {}, "every finished job is deleted"


async def test_a_job_the_handler_wants_later_is_rescheduled_and_the_others_finished(
    services: Services,
) -> None:
    await enqueue(services, ["now-1", "later", "now-2"])
    await run_until_idle(services)
    left = await remaining(services)
    assert list(left) == ["later"]
    assert left["later"].last_error == "asked to wait" and left["later"].locked_by is None


async def test_a_batch_that_fails_as_a_whole_runs_again_job_by_job(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    await enqueue(services, ["fine-1", "poison", "fine-2"])
    await run_until_idle(services)
    caplog.clear()  # the batch's and the bad job's failures were logged as errors on purpose
    assert batches == [], "the batch handler never completed that batch"
    assert sorted(single_runs) == ["fine-1", "fine-2", "poison"]
    left = await remaining(services)
    assert list(left) == ["poison"], "the others are finished"
    assert left["poison"].last_error is not None and "breaks every time" in left["poison"].last_error


async def test_an_urgent_job_takes_the_room_beside_a_running_batch(services: Services) -> None:
    """Ten bulk jobs are at a slow provider, with room for five more jobs but not for
    another batch: an urgent job enqueued now runs at once, alone; bulk waits for room."""
    bulk_gate.clear()
    await enqueue(services, [f"slow-{n}" for n in range(10)])
    worker = BatchWorker(
        services, kind=KIND, handler=run_batch, batch_size=10, max_in_flight=15, poll_interval=0.02, lease=30
    )
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await eventually(lambda: asyncio.sleep(0, worker._in_flight), lambda count: count == 10)
        await enqueue(services, [f"more-{n}" for n in range(10)])
        await enqueue(services, ["urgent"], priority=queue.PRIORITY_HIGH)
        await eventually(lambda: asyncio.sleep(0, batches), lambda done: ["urgent"] in done)
        assert batches == [["urgent"]], "nothing else ran while the slow batch was out"
    finally:
        bulk_gate.set()
        await eventually(lambda: remaining(services), lambda jobs: not jobs)
        stop.set()
        await running
