"""Enqueue, claim, finish and reschedule jobs. Portable across SQLite and PostgreSQL."""

import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.core.ids import new_id
from omniroute.core.tenancy import Mode
from omniroute.core.upsert import insert_if_absent
from omniroute.jobs.models import Job

PRIORITY_HIGH = 0
PRIORITY_NORMAL = 5
PRIORITY_BULK = 9


@dataclass(frozen=True)
class ClaimedJob:
    id: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    priority: int = PRIORITY_NORMAL


def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    delay: float = 0.0,
    priority: int = PRIORITY_NORMAL,
    workspace_id: str | None = None,
    mode: Mode | None = None,
    max_attempts: int = 20,
    job_id: str | None = None,
) -> Job:
    """Add a job to the caller's transaction; it exists only if that transaction commits.
    A ``job_id`` of the caller's choosing lets it find the job again (to move it)."""
    job = Job(
        id=job_id or new_id("job"),
        kind=kind,
        payload=payload,
        workspace_id=workspace_id,
        mode=mode.value if mode else None,
        priority=priority,
        run_at=time.time() + delay,
        attempts=0,
        max_attempts=max_attempts,
        dead=False,
    )
    session.add(job)
    return job


def recurring_job_id(kind: str) -> str:
    return f"job_recurring_{kind}"


async def ensure_recurring(session: AsyncSession, kind: str) -> None:
    """Create the single job row of a recurring task unless it exists (one per kind,
    however many workers start at once)."""
    await insert_if_absent(
        session,
        Job,
        {
            "id": recurring_job_id(kind),
            "kind": kind,
            "payload": {},
            "priority": PRIORITY_BULK,
            "run_at": time.time(),
            "attempts": 0,
            "max_attempts": 1_000_000,
            "dead": False,
        },
    )


async def claim(
    session: AsyncSession,
    worker_id: str,
    limit: int,
    lease: float,
    *,
    only: Collection[str] = (),
    excluding: Collection[str] = (),
    up_to_priority: int | None = None,
) -> list[ClaimedJob]:
    """Lease up to ``limit`` due jobs to this worker, highest priority and oldest first;
    of the kinds in ``only`` if given, never of the kinds in ``excluding``, and only of
    priority ``up_to_priority`` or higher (a lower number) if given.

    On PostgreSQL the inner ``FOR UPDATE SKIP LOCKED`` lets concurrent workers claim
    disjoint sets; on SQLite the single writer lock serialises claims.
    """
    now = time.time()
    conditions = [
        Job.dead.is_(False),
        Job.run_at <= now,
        or_(Job.locked_until.is_(None), Job.locked_until < now),
    ]
    if only:
        conditions.append(Job.kind.in_(only))
    if excluding:
        conditions.append(Job.kind.not_in(excluding))
    if up_to_priority is not None:
        conditions.append(Job.priority <= up_to_priority)
    due = (
        select(Job.id)
        .where(*conditions)
        .order_by(Job.priority, Job.run_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = await session.execute(
        update(Job)
        .where(Job.id.in_(due.scalar_subquery()))
        .values(locked_by=worker_id, locked_until=now + lease, attempts=Job.attempts + 1)
        .returning(Job.id, Job.kind, Job.payload, Job.attempts, Job.max_attempts, Job.priority)
        .execution_options(synchronize_session=False)
    )
    rows = sorted(result.all(), key=lambda r: r.priority)
    return [ClaimedJob(r.id, r.kind, r.payload, r.attempts, r.max_attempts, r.priority) for r in rows]


async def finish(session: AsyncSession, job_id: str, worker_id: str) -> None:
    await finish_many(session, [job_id], worker_id)


async def finish_many(session: AsyncSession, job_ids: Collection[str], worker_id: str) -> None:
    """Delete finished jobs that this worker still holds, in one statement."""
    await session.execute(delete(Job).where(Job.id.in_(job_ids), Job.locked_by == worker_id))


async def reschedule(
    session: AsyncSession,
    job_id: str,
    worker_id: str,
    *,
    delay: float,
    error: str | None,
    count_attempt: bool = True,
) -> None:
    """Release the job to run again after ``delay``. ``count_attempt=False`` gives back the
    attempt its claim took (a run that failed through no fault of the job)."""
    attempts = Job.attempts if count_attempt else Job.attempts - 1
    await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.locked_by == worker_id)
        .values(
            run_at=time.time() + delay, locked_by=None, locked_until=None, last_error=error, attempts=attempts
        )
    )


_JOBS = cast(Table, Job.__table__)
_RESCHEDULE_ONE = (
    update(_JOBS)
    .where(_JOBS.c.id == bindparam("job_id"), _JOBS.c.locked_by == bindparam("worker_id"))
    .values(run_at=bindparam("next_run_at"), locked_by=None, locked_until=None, last_error=bindparam("error"))
)


async def reschedule_many(
    session: AsyncSession, delays: dict[str, tuple[float, str]], worker_id: str
) -> None:
    """``reschedule`` for many jobs (job id → delay and error), in one round trip
    (executemany): a paced dispatch batch puts most of its jobs back at once."""
    if not delays:
        return
    now = time.time()
    await session.execute(
        _RESCHEDULE_ONE,
        [
            {"job_id": job_id, "worker_id": worker_id, "next_run_at": now + delay, "error": error}
            for job_id, (delay, error) in delays.items()
        ],
    )


async def bury(session: AsyncSession, job_id: str, worker_id: str, error: str) -> None:
    await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.locked_by == worker_id)
        .values(dead=True, locked_by=None, locked_until=None, last_error=error)
    )


async def shift_test_clock(session: AsyncSession, workspace_id: str, seconds: float) -> None:
    """Advancing a workspace's test clock brings its test-mode jobs forward by as much."""
    await session.execute(
        update(Job)
        .where(Job.workspace_id == workspace_id, Job.mode == Mode.TEST.value)
        .values(run_at=Job.run_at - seconds)
    )
