import secrets

from fastapi import Request
from sqlalchemy import update

from omniroute.channels import service as channels
from omniroute.channels.models import ChannelType
from omniroute.conversations import service as conversations
from omniroute.conversations.schemas import WindowOut
from omniroute.core.deps import SessionDep
from omniroute.core.errors import InvalidRequestError, not_found
from omniroute.core.http import api_router
from omniroute.core.openapi import error_responses
from omniroute.ingest.service import record_inbound
from omniroute.jobs.queue import shift_test_clock
from omniroute.messages import service as messages
from omniroute.providers.base import TemplateDefinition
from omniroute.providers.events import InboundMessage
from omniroute.providers.sandbox import templates as sandbox_templates
from omniroute.providers.sandbox.models import SandboxTemplate
from omniroute.sandbox.schemas import (
    ClockAdvance,
    ClockOut,
    SandboxInbound,
    SandboxInboundOut,
    SandboxTemplateCreate,
    SandboxTemplateOut,
)
from omniroute.services import wake_workers_after_commit
from omniroute.workspaces.auth import TestAuth
from omniroute.workspaces.models import Workspace

router = api_router(prefix="/sandbox", tags=["sandbox"], responses=error_responses(403))  # test keys only


@router.post("/inbound", status_code=201, summary="A customer writes (test mode)")
async def inbound(body: SandboxInbound, auth: TestAuth, session: SessionDep) -> SandboxInboundOut:
    channel = await channels.get(session, auth, body.channel_id, param="channel_id")
    sender = messages.recipient_address(channel, body.from_, param="from")
    now = auth.now()
    sent_at = body.timestamp or now
    if sent_at > now:
        raise InvalidRequestError(
            "parameter_invalid",
            "timestamp: a customer message cannot come from the future.",
            param="timestamp",
        )
    message = await record_inbound(
        session,
        channel,
        InboundMessage(
            provider_message_id=f"sbx.in.{secrets.token_hex(12)}",
            sender=sender,
            timestamp=sent_at,
            content_type="text",
            content=body.text.model_dump(),
            referral=body.referral,
        ),
    )
    conversation = await conversations.find(session, channel.id, message.contact_id) if message else None
    return SandboxInboundOut(
        message=messages.to_out(message) if message else None,
        duplicate=message is None,
        window=WindowOut.of_optional(conversations.window_on(channel.type, conversation, now)),
    )


@router.post("/clock/advance", summary="Move this workspace's test clock forward")
async def advance_clock(
    body: ClockAdvance, auth: TestAuth, session: SessionDep, request: Request
) -> ClockOut:
    await session.execute(
        update(Workspace)
        .where(Workspace.id == auth.workspace_id)
        .values(test_clock_offset_seconds=Workspace.test_clock_offset_seconds + body.seconds)
    )
    await session.refresh(auth.workspace)
    await shift_test_clock(session, auth.workspace_id, body.seconds)
    wake_workers_after_commit(request)
    return ClockOut(now=auth.now(), offset_seconds=auth.workspace.test_clock_offset_seconds)


@router.get("/clock", summary="The test clock")
async def get_clock(auth: TestAuth) -> ClockOut:
    return ClockOut(now=auth.now(), offset_seconds=auth.workspace.test_clock_offset_seconds)


@router.post("/templates", status_code=201, summary="A template is made or changed in Meta's UI (test mode)")
async def put_template(
    body: SandboxTemplateCreate, auth: TestAuth, session: SessionDep
) -> SandboxTemplateOut:
    """Writes the sandbox's own template list (the simulated Meta side), not omniroute's:
    ``POST /v1/channels/{id}/templates/sync`` then pulls it."""
    channel = await channels.get(session, auth, body.channel_id, param="channel_id")
    if channel.type != ChannelType.WHATSAPP:
        raise InvalidRequestError(
            "channel_type_unsupported", "Templates exist only on WhatsApp channels.", param="channel_id"
        )
    definition = TemplateDefinition(
        body.name,
        body.language,
        body.category.value,
        [c.model_dump(exclude_none=True) for c in body.components],
    )
    row = await sandbox_templates.put(
        session, channel, definition, status=body.status, quality_score=body.quality_score
    )
    return SandboxTemplateOut.model_validate(row, from_attributes=True)


@router.delete("/templates/{provider_template_id}", summary="A template is deleted in Meta's UI (test mode)")
async def remove_template(
    provider_template_id: str, auth: TestAuth, session: SessionDep
) -> SandboxTemplateOut:
    row = await session.get(SandboxTemplate, provider_template_id)
    if row is None or row.workspace_id != auth.workspace_id or row.mode != auth.mode:
        raise not_found("sandbox template", provider_template_id)
    out = SandboxTemplateOut.model_validate(row, from_attributes=True)
    await sandbox_templates.remove(session, row.channel_id, row.name, row.id)
    return out
