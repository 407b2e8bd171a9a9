"""Idempotency keys are forgotten after their TTL by one recurring job, however many
worker processes run."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from omniroute.config import Settings
from omniroute.core.db import Database
from omniroute.core.time import utcnow
from omniroute.idempotency.models import IdempotencyRecord
from omniroute.idempotency.tasks import PURGE_EVERY_SECONDS, PURGE_JOB
from omniroute.jobs import queue
from omniroute.jobs.models import Job
from omniroute.jobs.registry import JobContext, RetryLater, handler_for
from omniroute.providers.registry import ProviderRegistry
from omniroute.requestlog.writer import RequestLogWriter
from omniroute.services import Services
from tests.conftest import Tenant


async def test_expired_keys_are_purged_and_fresh_ones_kept(
    tenant: Tenant, db: Database, settings: Settings
) -> None:
    ttl = timedelta(hours=settings.idempotency_ttl_hours)
    async with db.transaction() as session:
        for key, age in (("old", ttl + timedelta(minutes=1)), ("fresh", ttl - timedelta(minutes=1))):
            session.add(
                IdempotencyRecord(
                    workspace_id=tenant.workspace_id,
                    mode="test",
                    key=key,
                    request_hash="h",
                    status_code=202,
                    response_body="{}",
                    created_at=utcnow() - age,
                )
            )
    handler = handler_for(PURGE_JOB)
    assert handler is not None
    services = Services(
        settings=settings, db=db, providers=ProviderRegistry(settings, db), request_log=RequestLogWriter(db)
    )
    with pytest.raises(RetryLater) as next_run:
        await handler(JobContext(db, services, attempt=1), {})
    assert next_run.value.delay == PURGE_EVERY_SECONDS
    async with db.sessionmaker() as session:
        keys = await session.scalars(
            select(IdempotencyRecord.key).where(IdempotencyRecord.workspace_id == tenant.workspace_id)
        )
        assert list(keys) == ["fresh"]


async def test_the_recurring_purge_job_exists_once(db: Database, tenant: Tenant) -> None:
    for _ in range(2):  # e.g. two worker processes starting
        async with db.transaction() as session:
            await queue.ensure_recurring(session, PURGE_JOB)
    async with db.sessionmaker() as session:
        count = await session.scalar(select(func.count()).select_from(Job).where(Job.kind == PURGE_JOB))
    assert count == 1
