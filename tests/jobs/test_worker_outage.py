"""The worker through a database outage: a job whose outcome cannot be recorded has it
recorded as soon as the database is back (not left locked until its lease runs out), a
job that failed only because the database was unavailable runs again soon without using
up an attempt, and no wake-up is lost."""

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from omniroute.config import Settings
from omniroute.core.db import Database
from omniroute.jobs import queue
from omniroute.jobs.models import Job
from omniroute.jobs.registry import JobContext, task
from omniroute.jobs.worker import OUTAGE_RETRY_SECONDS, Worker
from omniroute.migrations.runner import upgrade
from omniroute.services import build_services
from tests.conftest import eventually
from tests.database_outage import SimulatedOutage

LEASE = 30.0
outage: SimulatedOutage | None = None
runs: dict[str, int] = {}


@task("test.outage_while_running")
async def outage_while_running(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Its work succeeds, then the database goes away for a moment before the outcome is recorded."""
    assert outage is not None
    outage.for_seconds(0.5)


@task("test.database_unavailable_once")
async def database_unavailable_once(ctx: JobContext, payload: dict[str, Any]) -> None:
    runs[payload["key"]] = runs.get(payload["key"], 0) + 1
    if runs[payload["key"]] == 1:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError(111, "Connection refused"))


@pytest.fixture
async def worker_db() -> AsyncIterator[Database]:
    global outage
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'worker.db'}"
    await asyncio.to_thread(upgrade, url)
    services = build_services(Settings(database_url=url, worker_poll_interval=0.02))
    outage = SimulatedOutage(services.db)
    stop = asyncio.Event()
    running = asyncio.create_task(Worker(services, concurrency=4, poll_interval=0.02, lease=LEASE).run(stop))
    yield services.db
    stop.set()
    await running
    await services.close()


async def job(db: Database, job_id: str) -> Job | None:
    async with db.sessionmaker() as session:
        return await session.get(Job, job_id)


async def test_an_outcome_that_could_not_be_recorded_is_recorded_once_the_database_is_back(
    worker_db: Database,
) -> None:
    async with worker_db.transaction() as session:
        job_id = queue.enqueue(session, "test.outage_while_running", {}).id
    await eventually(lambda: job(worker_db, job_id), lambda found: found is None, timeout=LEASE / 3)
    assert outage is not None and outage.refused > 0  # the first attempts to record it failed


async def test_a_job_that_failed_because_the_database_was_unavailable_runs_again_soon_at_no_cost(
    worker_db: Database,
) -> None:
    """A dispatch job claimed four times already (each provider throughput refusal is a
    claim) used to be put back by the handler back-off for its fifth attempt, 2·2⁴ = 32 s,
    when the database failed under it: the lag seen after a restart."""
    async with worker_db.transaction() as session:
        job_id = queue.enqueue(session, "test.database_unavailable_once", {"key": "soon"}).id
        await session.flush()
        await session.execute(update(Job).where(Job.id == job_id).values(attempts=4))
    waiting = await eventually(
        lambda: job(worker_db, job_id), lambda found: found is None or found.last_error
    )
    if waiting is not None:  # seen between the two runs
        assert waiting.attempts == 4 and not waiting.dead
        assert waiting.run_at <= time.time() + OUTAGE_RETRY_SECONDS
    await eventually(lambda: job(worker_db, job_id), lambda found: found is None)
    assert runs["soon"] == 2


@task("test.noted")
async def noted(ctx: JobContext, payload: dict[str, Any]) -> None:
    runs[payload["key"]] = runs.get(payload["key"], 0) + 1


async def test_a_wake_up_that_comes_while_the_worker_claims_is_not_lost(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A commit that enqueues a job wakes the in-process worker. When that wake-up came
    while the worker was claiming (and the claim did not see the job yet), it was lost and
    the job waited for the next poll."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'wake.db'}"
    await asyncio.to_thread(upgrade, url)
    services = build_services(Settings(database_url=url))
    worker = Worker(services, concurrency=4, poll_interval=LEASE, lease=LEASE)
    original_claim = queue.claim
    woken_during_claim = asyncio.Event()

    async def claim(
        session: Any, worker_id: str, limit: int, lease: float, **kinds: Any
    ) -> list[queue.ClaimedJob]:
        claimed = await original_claim(session, worker_id, limit, lease, **kinds)
        if not claimed and not worker._running and not woken_during_claim.is_set():
            # A request commits a job meanwhile (here in the claim's own transaction: SQLite
            # has one writer) and wakes the worker, after the claim's query ran.
            queue.enqueue(session, "test.noted", {"key": "woken"})
            worker.wake()
            woken_during_claim.set()
        return claimed

    monkeypatch.setattr(queue, "claim", claim)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await eventually(lambda: asyncio.sleep(0, runs.get("woken")), bool, timeout=LEASE / 3)
    finally:
        stop.set()
        await running
        await services.close()
