"""The durable job queue (jobs/queue.py), on its own database so the server's workers
stay out of the way: a job is claimed by one claimer at a time, a lapsed lease makes it
claimable again, and the test clock brings a workspace's test jobs forward."""

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from omniroute.config import Settings
from omniroute.core.db import create_engine
from omniroute.core.tenancy import Mode
from omniroute.jobs import queue
from omniroute.jobs.models import Job
from omniroute.jobs.worker import BACKOFF_MAX_SECONDS, backoff

SCHEMA = "queue_tests"

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture(scope="module")
async def sessions(settings: Settings) -> AsyncIterator[Sessions]:
    url = settings.database_url
    if make_url(url).get_backend_name() == "postgresql":
        admin = create_async_engine(url)
        async with admin.begin() as connection:
            await connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            await connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        await admin.dispose()
        engine = create_async_engine(
            url, connect_args={"server_settings": {"search_path": SCHEMA}}, pool_size=10
        )
    else:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'queue.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(Job.__table__.create)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


@pytest.fixture(autouse=True)
async def empty_queue(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        await session.execute(Job.__table__.delete())


async def enqueue(sessions: Sessions, count: int = 1, **kwargs: object) -> list[str]:
    async with sessions.begin() as session:
        jobs = [queue.enqueue(session, "test.job", {"n": n}, **kwargs) for n in range(count)]  # type: ignore[arg-type]
        return [job.id for job in jobs]


async def claim(
    sessions: Sessions, worker: str, limit: int = 10, lease: float = 60.0
) -> list[queue.ClaimedJob]:
    async with sessions.begin() as session:
        return await queue.claim(session, worker, limit, lease)


async def job(sessions: Sessions, job_id: str) -> Job | None:
    async with sessions() as session:
        return await session.scalar(select(Job).where(Job.id == job_id))


async def test_enqueued_job_is_claimed_with_its_payload(sessions: Sessions) -> None:
    [job_id] = await enqueue(sessions)
    [claimed] = await claim(sessions, "w1")
    assert (claimed.id, claimed.kind, claimed.payload, claimed.attempts) == (job_id, "test.job", {"n": 0}, 1)
    stored = await job(sessions, job_id)
    assert stored is not None and stored.locked_by == "w1"


async def test_a_job_exists_only_if_its_transaction_commits(sessions: Sessions) -> None:
    with pytest.raises(RuntimeError):
        async with sessions.begin() as session:
            queue.enqueue(session, "test.job", {})
            await session.flush()
            raise RuntimeError("the cause of the job was rolled back")
    assert await claim(sessions, "w1") == []


async def test_a_job_not_yet_due_is_not_claimed(sessions: Sessions) -> None:
    await enqueue(sessions, delay=3600)
    assert await claim(sessions, "w1") == []


async def test_higher_priority_jobs_are_claimed_first(sessions: Sessions) -> None:
    [bulk] = await enqueue(sessions, priority=queue.PRIORITY_BULK)
    [normal] = await enqueue(sessions, priority=queue.PRIORITY_NORMAL)
    [high] = await enqueue(sessions, priority=queue.PRIORITY_HIGH)
    assert [c.id for c in await claim(sessions, "w1", limit=1)] == [high]
    assert [c.id for c in await claim(sessions, "w1", limit=5)] == [normal, bulk]


async def test_claim_takes_at_most_the_limit(sessions: Sessions) -> None:
    await enqueue(sessions, 5)
    assert len(await claim(sessions, "w1", limit=3)) == 3
    assert len(await claim(sessions, "w2", limit=3)) == 2


async def test_a_leased_job_is_not_handed_to_another_claimer(sessions: Sessions) -> None:
    await enqueue(sessions)
    assert len(await claim(sessions, "w1")) == 1
    assert await claim(sessions, "w2") == []


async def test_concurrent_claimers_never_get_the_same_job(sessions: Sessions) -> None:
    expected = set(await enqueue(sessions, 60))

    async def claimer(name: str) -> list[str]:
        mine: list[str] = []
        while batch := await claim(sessions, name, limit=4):
            mine.extend(c.id for c in batch)
        return mine

    results = await asyncio.gather(*(claimer(f"w{i}") for i in range(6)))
    everything = [job_id for result in results for job_id in result]
    assert len(everything) == len(set(everything)), "a job was handed to two claimers"
    assert set(everything) == expected


async def test_a_lapsed_lease_makes_the_job_claimable_again(sessions: Sessions) -> None:
    [job_id] = await enqueue(sessions)
    [first] = await claim(sessions, "crashed-worker", lease=0.05)
    assert await claim(sessions, "w2") == []
    await asyncio.sleep(0.1)
    [second] = await claim(sessions, "w2")
    assert second.id == job_id
    assert (first.attempts, second.attempts) == (1, 2)

    async with sessions.begin() as session:  # the worker that lost the lease cannot finish it
        await queue.finish(session, job_id, "crashed-worker")
    assert await job(sessions, job_id) is not None
    async with sessions.begin() as session:
        await queue.finish(session, job_id, "w2")
    assert await job(sessions, job_id) is None


async def test_finished_job_is_gone(sessions: Sessions) -> None:
    [job_id] = await enqueue(sessions)
    await claim(sessions, "w1")
    async with sessions.begin() as session:
        await queue.finish(session, job_id, "w1")
    assert await job(sessions, job_id) is None
    assert await claim(sessions, "w1") == []


async def test_rescheduled_job_runs_again_after_its_delay(sessions: Sessions) -> None:
    [job_id] = await enqueue(sessions)
    await claim(sessions, "w1")
    async with sessions.begin() as session:
        await queue.reschedule(session, job_id, "w1", delay=0.1, error="provider busy")
    stored = await job(sessions, job_id)
    assert stored is not None
    assert (stored.locked_by, stored.locked_until, stored.last_error) == (None, None, "provider busy")
    assert await claim(sessions, "w1") == []
    await asyncio.sleep(0.15)
    [again] = await claim(sessions, "w1")
    assert (again.id, again.attempts) == (job_id, 2)


async def test_buried_job_is_never_claimed_again(sessions: Sessions) -> None:
    [job_id] = await enqueue(sessions)
    await claim(sessions, "w1", lease=0.01)
    async with sessions.begin() as session:
        await queue.bury(session, job_id, "w1", "gave up")
    await asyncio.sleep(0.05)
    assert await claim(sessions, "w2") == []
    stored = await job(sessions, job_id)
    assert stored is not None and stored.dead and stored.last_error == "gave up"


async def test_advancing_a_workspaces_test_clock_brings_only_its_test_jobs_forward(
    sessions: Sessions,
) -> None:
    [mine] = await enqueue(sessions, delay=3600, workspace_id="ws_a", mode=Mode.TEST)
    [live] = await enqueue(sessions, delay=3600, workspace_id="ws_a", mode=Mode.LIVE)
    [other] = await enqueue(sessions, delay=3600, workspace_id="ws_b", mode=Mode.TEST)
    assert await claim(sessions, "w1") == []

    async with sessions.begin() as session:
        await queue.shift_test_clock(session, "ws_a", 3600)
    assert [c.id for c in await claim(sessions, "w1")] == [mine]
    for job_id in (live, other):
        stored = await job(sessions, job_id)
        assert stored is not None and stored.run_at > time.time() + 3500


async def test_a_partial_clock_shift_leaves_the_job_waiting(sessions: Sessions) -> None:
    await enqueue(sessions, delay=3600, workspace_id="ws_a", mode=Mode.TEST)
    async with sessions.begin() as session:
        await queue.shift_test_clock(session, "ws_a", 1800)
    assert await claim(sessions, "w1") == []


def test_backoff_doubles_and_is_capped() -> None:
    delays = [backoff(attempt) for attempt in range(1, 8)]
    assert delays == [2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]
    assert backoff(0) == 2.0
    assert backoff(100) == BACKOFF_MAX_SECONDS
