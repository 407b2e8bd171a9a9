"""Keeping every live SMPP channel bound, and applying receipts that waited for their part."""

from typing import Any

from sqlalchemy import select

from omniroute.channels.models import Channel, ChannelStatus, ChannelType
from omniroute.core.tenancy import Mode
from omniroute.core.time import utcnow
from omniroute.jobs.registry import JobContext, recurring
from omniroute.providers.registry import SMPP
from omniroute.sms import service as sms

KEEP_BINDS_JOB = "smpp.keep_binds"
APPLY_RECEIPTS_JOB = "sms.apply_pending_receipts"


@recurring(KEEP_BINDS_JOB, every=10.0)
async def keep_binds(ctx: JobContext, payload: dict[str, Any]) -> None:
    """The process that runs this binds every active live smpp channel whose lease is free
    (``providers/smpp/binds.py``)."""
    async with ctx.db.transaction() as session:
        channels = (
            await session.scalars(
                select(Channel).where(
                    Channel.provider == SMPP,
                    Channel.type == ChannelType.SMS,
                    Channel.mode == Mode.LIVE,
                    Channel.status == ChannelStatus.ACTIVE,
                    Channel.deleted_at.is_(None),
                )
            )
        ).all()
        refs = [ctx.services.providers.channel_ref(channel) for channel in channels]
    await ctx.services.providers.smpp_binds.keep(refs)


@recurring(APPLY_RECEIPTS_JOB, every=30.0)
async def apply_pending_receipts(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Receipts stored while their parts were being recorded in another transaction."""
    async with ctx.db.transaction() as session:
        await sms.apply_pending(session, utcnow())
