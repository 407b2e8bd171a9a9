"""The worker loop (jobs/worker.py): a failing handler is retried with back-off and
keeps its error, a handler asking to run later is rescheduled quietly, and a job out of
attempts is kept as dead instead of vanishing. Runs on its own migrated SQLite file so
the server's workers stay out of the way."""

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from omniroute.config import Settings
from omniroute.jobs import queue
from omniroute.jobs.models import Job
from omniroute.jobs.registry import JobContext, RetryLater, task
from omniroute.jobs.worker import Worker, backoff
from omniroute.migrations.runner import upgrade
from omniroute.services import build_services
from tests.conftest import eventually

runs: dict[str, int] = {}


@task("test.fails_once")
async def fails_once(ctx: JobContext, payload: dict[str, Any]) -> None:
    runs[payload["key"]] = runs.get(payload["key"], 0) + 1
    if runs[payload["key"]] == 1:
        raise RuntimeError("first attempt breaks")


@task("test.always_fails")
async def always_fails(ctx: JobContext, payload: dict[str, Any]) -> None:
    raise RuntimeError("always breaks")


@task("test.wants_later")
async def wants_later(ctx: JobContext, payload: dict[str, Any]) -> None:
    raise RetryLater(120, "provider asked us to wait")


@pytest.fixture
async def worker_db() -> AsyncIterator[Any]:
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'worker.db'}"
    await asyncio.to_thread(upgrade, url)
    services = build_services(Settings(database_url=url, worker_poll_interval=0.02))
    stop = asyncio.Event()
    worker = Worker(services, concurrency=4, poll_interval=0.02, lease=30)
    running = asyncio.create_task(worker.run(stop))
    yield services.db
    stop.set()
    await running
    await services.close()


async def job(db: Any, job_id: str) -> Job | None:
    async with db.sessionmaker() as session:
        return await session.get(Job, job_id)  # type: ignore[no-any-return]


async def add(db: Any, kind: str, **kwargs: Any) -> str:
    async with db.transaction() as session:
        return queue.enqueue(session, kind, {"key": kind}, **kwargs).id


async def test_a_failing_job_is_retried_with_back_off_and_keeps_its_error(
    worker_db: Any, caplog: pytest.LogCaptureFixture
) -> None:
    job_id = await add(worker_db, "test.fails_once")
    failed = await eventually(lambda: job(worker_db, job_id), lambda j: j is not None and j.last_error)
    assert "first attempt breaks" in failed.last_error
    assert failed.locked_by is None and failed.attempts == 1
    assert failed.run_at == pytest.approx(time.time() + backoff(1), abs=1.0)

    async with worker_db.transaction() as session:  # let the back-off pass
        (await session.get(Job, job_id)).run_at = time.time()
    await eventually(lambda: job(worker_db, job_id), lambda j: j is None)
    assert runs["test.fails_once"] == 2
    caplog.clear()  # the first failure was logged as an error on purpose


async def test_a_job_out_of_attempts_is_kept_dead_not_lost(
    worker_db: Any, caplog: pytest.LogCaptureFixture
) -> None:
    job_id = await add(worker_db, "test.always_fails", max_attempts=1)
    dead = await eventually(lambda: job(worker_db, job_id), lambda j: j is not None and j.dead)
    assert "always breaks" in dead.last_error and dead.locked_by is None
    caplog.clear()


async def test_a_job_of_an_unknown_kind_is_not_dropped(
    worker_db: Any, caplog: pytest.LogCaptureFixture
) -> None:
    job_id = await add(worker_db, "test.nobody_handles_this", max_attempts=1)
    dead = await eventually(lambda: job(worker_db, job_id), lambda j: j is not None and j.dead)
    assert "no handler registered" in dead.last_error
    caplog.clear()


async def test_retry_later_reschedules_without_counting_as_an_error(worker_db: Any) -> None:
    job_id = await add(worker_db, "test.wants_later")
    waiting = await eventually(lambda: job(worker_db, job_id), lambda j: j is not None and j.last_error)
    assert waiting.last_error == "provider asked us to wait"
    assert waiting.run_at == pytest.approx(time.time() + 120, abs=2.0)
    assert not waiting.dead
