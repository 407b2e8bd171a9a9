"""Plays the sandbox's scheduled network events when they fall due."""

from typing import Any

from pydantic import TypeAdapter

from omniroute.channels.models import Channel
from omniroute.core.tenancy import Mode
from omniroute.ingest.service import apply_event
from omniroute.jobs.registry import JobContext, task
from omniroute.policy.templates import TemplateStatus
from omniroute.providers.events import ProviderEvent, StatusUpdate, TemplateReview
from omniroute.providers.sandbox.models import SandboxTemplate
from omniroute.providers.sandbox.provider import EMIT_JOB, schedule_script
from omniroute.providers.sandbox.simulation import review_template
from omniroute.providers.sandbox.templates import REVIEW_JOB
from omniroute.sms import service as sms
from omniroute.workspaces.models import Workspace

_EVENT: TypeAdapter[ProviderEvent] = TypeAdapter(ProviderEvent)


@task(EMIT_JOB)
async def emit(ctx: JobContext, payload: dict[str, Any]) -> None:
    async with ctx.db.transaction() as session:
        channel = await session.get(Channel, payload["channel_id"])
        if channel is None:
            return
        workspace = await session.get(Workspace, channel.workspace_id)
        assert workspace is not None
        now = workspace.now(Mode(channel.mode))
        event = _EVENT.validate_python({**payload["event"], "timestamp": now})
        await apply_event(session, channel, event)
        if isinstance(event, StatusUpdate):
            await sms.record_simulated_receipts(session, channel, event)
        schedule_script(session, channel, [(after, then) for after, then in payload.get("then", [])])


@task(REVIEW_JOB)
async def review(ctx: JobContext, payload: dict[str, Any]) -> None:
    """ "Meta" reviews the template as it stands now (an edit in between is what is
    reviewed), records its verdict on its side and reports it like a webhook would."""
    async with ctx.db.transaction() as session:
        row = await session.get(SandboxTemplate, payload["provider_template_id"])
        if row is None or row.status != TemplateStatus.PENDING:
            return
        channel = await session.get(Channel, row.channel_id)
        workspace = await session.get(Workspace, row.workspace_id)
        assert channel is not None and workspace is not None
        verdict = review_template(
            {
                "name": row.name,
                "language": row.language,
                "category": row.category,
                "components": row.components,
            }
        )
        row.status = verdict.status
        row.rejection_reason = verdict.reason
        review_event = TemplateReview(
            provider_template_id=row.id,
            name=row.name,
            language=row.language,
            status=verdict.status.value,
            reason=verdict.reason,
            suggested_category=verdict.suggested_category,
            timestamp=workspace.now(Mode(channel.mode)),
        )
        await apply_event(session, channel, review_event)
