"""The campaign's own job: start it on schedule, guard it, make its messages in batches
and complete it (``service.step``), every ``RUN_INTERVAL`` while it runs."""

from typing import Any

from sqlalchemy import select

from omniroute.campaigns import service
from omniroute.campaigns.models import Campaign, CampaignStatus
from omniroute.channels.models import Channel
from omniroute.core.tenancy import Mode
from omniroute.jobs.registry import JobContext, RetryLater, task
from omniroute.workspaces.models import Workspace


@task(service.RUN_JOB)
async def run(ctx: JobContext, payload: dict[str, Any]) -> None:
    async with ctx.db.transaction() as session:
        campaign = await session.scalar(
            select(Campaign).where(Campaign.id == payload["campaign_id"]).with_for_update()
        )
        if campaign is None or campaign.status not in (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING):
            return  # paused, cancelled or completed: resume enqueues the run again
        workspace = await session.get(Workspace, campaign.workspace_id)
        channel = await session.get(Channel, campaign.channel_id)
        assert workspace is not None and channel is not None
        now = workspace.now(Mode(campaign.mode))
        if campaign.status == CampaignStatus.SCHEDULED:
            service.start(session, campaign, now)
        reason = await service.guard_reason(
            session, campaign, channel, ctx.services.settings.campaign_failure_threshold
        )
        if reason is not None:
            await service.pause(session, campaign, now, reason)
            return
        delay = await service.step(session, campaign, channel, now)
    if delay is not None:
        raise RetryLater(delay, f"campaign {campaign.id} runs again in {delay:g}s")
