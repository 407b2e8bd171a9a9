"""Forgetting idempotency keys once their time is up."""

from typing import Any

from omniroute.idempotency.service import purge_expired as purge
from omniroute.jobs.registry import JobContext, recurring

PURGE_JOB = "idempotency.purge_expired"
PURGE_EVERY_SECONDS = 3600.0


@recurring(PURGE_JOB, every=PURGE_EVERY_SECONDS)
async def purge_expired(ctx: JobContext, payload: dict[str, Any]) -> None:
    async with ctx.db.transaction() as session:
        await purge(session, ctx.services.settings.idempotency_ttl)
