"""Forgetting the log once its retention is over."""

from datetime import timedelta
from typing import Any

from omniroute.jobs.registry import JobContext, recurring
from omniroute.logs.service import purge

PURGE_JOB = "logs.purge_expired"
PURGE_EVERY_SECONDS = 3600.0


@recurring(PURGE_JOB, every=PURGE_EVERY_SECONDS)
async def purge_expired(ctx: JobContext, payload: dict[str, Any]) -> None:
    async with ctx.db.transaction() as session:
        await purge(session, timedelta(days=ctx.services.settings.log_retention_days))
