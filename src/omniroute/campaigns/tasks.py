"""The campaign's own job: start it on schedule, guard it, make its messages in batches
and complete it (``service.step``), every ``RUN_INTERVAL`` while it runs. While the
campaign is paused the job stays, looking again every ``PAUSED_CAMPAIGN_RECHECK_SECONDS`` (resume
brings it forward): a job that ended when it found the campaign paused could be gone just
after a racing resume found it still there, and the campaign would never run again."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.campaigns import service
from omniroute.campaigns.models import Campaign, CampaignStatus
from omniroute.channels.models import Channel
from omniroute.core.tenancy import Mode
from omniroute.jobs.registry import JobContext, RetryLater, task
from omniroute.messages.dispatch import PAUSED_CAMPAIGN_RECHECK_SECONDS
from omniroute.workspaces.models import Workspace


@task(service.RUN_JOB)
async def run(ctx: JobContext, payload: dict[str, Any]) -> None:
    async with ctx.db.transaction() as session:
        campaign = await session.scalar(
            select(Campaign).where(Campaign.id == payload["campaign_id"]).with_for_update()
        )
        if campaign is None or campaign.status in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED):
            return
        delay = await _run(session, ctx, campaign)
    if delay is not None:
        raise RetryLater(delay, f"campaign {campaign.id} runs again in {delay:g}s")


async def _run(session: AsyncSession, ctx: JobContext, campaign: Campaign) -> float | None:
    """One run of a campaign not yet ended: seconds until the next, or None once it completed."""
    if campaign.status == CampaignStatus.PAUSED:
        return PAUSED_CAMPAIGN_RECHECK_SECONDS
    workspace = await session.get(Workspace, campaign.workspace_id)
    channel = await session.get(Channel, campaign.channel_id)
    assert workspace is not None and channel is not None
    now = workspace.now(Mode(campaign.mode))
    if campaign.status == CampaignStatus.SCHEDULED:
        if campaign.schedule_at is not None and campaign.schedule_at > now:
            return (campaign.schedule_at - now).total_seconds()  # resumed before its time
        service.start(session, campaign, now)
    reason = await service.guard_reason(
        session, campaign, channel, ctx.services.settings.campaign_failure_threshold
    )
    if reason is not None:
        await service.pause(session, campaign, now, reason)
        return PAUSED_CAMPAIGN_RECHECK_SECONDS
    return await service.step(session, campaign, channel, now)
