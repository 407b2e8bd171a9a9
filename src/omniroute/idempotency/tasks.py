"""Forgetting idempotency keys once their time is up."""

from datetime import timedelta
from typing import Any

from sqlalchemy import delete

from omniroute.core.time import utcnow
from omniroute.idempotency.models import IdempotencyRecord
from omniroute.jobs.registry import JobContext, recurring

PURGE_JOB = "idempotency.purge_expired"
PURGE_EVERY_SECONDS = 3600.0


@recurring(PURGE_JOB, every=PURGE_EVERY_SECONDS)
async def purge_expired(ctx: JobContext, payload: dict[str, Any]) -> None:
    cutoff = utcnow() - timedelta(hours=ctx.services.settings.idempotency_ttl_hours)
    async with ctx.db.transaction() as session:
        await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= cutoff))
