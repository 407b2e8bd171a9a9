from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.channels.models import Channel, ChannelType
from omniroute.core.errors import ConflictError, InvalidRequestError, NotFoundError, PolicyError, not_found
from omniroute.core.ids import new_id
from omniroute.jobs.queue import enqueue
from omniroute.policy.templates import SENDABLE_STATUSES, TemplateStatus
from omniroute.providers.events import TemplateReview
from omniroute.templates.lint import lint
from omniroute.templates.models import Template, TemplateStatusChange
from omniroute.templates.schemas import StatusChangeOut, TemplateCreate, TemplateOut
from omniroute.templates.variables import expected_variables
from omniroute.workspaces.auth import AuthContext

SUBMIT_JOB = "templates.submit"
DELETE_JOB = "templates.delete"


def scoped(auth: AuthContext) -> Select[Template]:
    return select(Template).where(Template.workspace_id == auth.workspace_id, Template.mode == auth.mode)


async def get(session: AsyncSession, auth: AuthContext, template_id: str) -> Template:
    template = await session.scalar(scoped(auth).where(Template.id == template_id))
    if template is None:
        raise not_found("template", template_id)
    return template


def record_status(
    session: AsyncSession, template: Template, status: TemplateStatus, at: datetime, reason: str | None = None
) -> None:
    template.status = status
    template.updated_at = at
    if status == TemplateStatus.REJECTED:
        template.rejection_reason = reason
    session.add(
        TemplateStatusChange(id=new_id("tsc"), template_id=template.id, status=status, reason=reason, at=at)
    )


async def create(
    session: AsyncSession, auth: AuthContext, channel: Channel, body: TemplateCreate
) -> Template:
    if channel.type != ChannelType.WHATSAPP:
        raise InvalidRequestError(
            "channel_type_unsupported", "Templates exist only on WhatsApp channels.", param="channel_id"
        )
    result = lint(body.definition())
    if not result.valid:
        raise InvalidRequestError(
            "template_invalid",
            f"The template has {len(result.errors())} problem(s) Meta would reject it for; see details.issues.",
            details=result.as_dict(),
        )
    existing = await session.scalar(
        select(Template.id).where(
            Template.channel_id == channel.id, Template.name == body.name, Template.language == body.language
        )
    )
    if existing is not None:
        raise ConflictError(
            "template_exists",
            f"Template '{body.name}' ({body.language}) already exists on this channel as {existing}.",
            param="name",
        )
    components = body.component_dicts()
    template = Template(
        id=new_id("tpl"),
        workspace_id=auth.workspace_id,
        mode=auth.mode,
        channel_id=channel.id,
        name=body.name,
        language=body.language,
        category=body.category,
        status=TemplateStatus.PENDING,
        components=components,
        variables=expected_variables(components),
        created_at=auth.now(),
    )
    session.add(template)
    await session.flush()
    record_status(session, template, TemplateStatus.PENDING, auth.now())
    enqueue(session, SUBMIT_JOB, {"template_id": template.id}, workspace_id=auth.workspace_id, mode=auth.mode)
    return template


async def delete(session: AsyncSession, auth: AuthContext, template: Template) -> Template:
    if template.status not in (TemplateStatus.DELETED, TemplateStatus.PENDING_DELETION):
        record_status(session, template, TemplateStatus.PENDING_DELETION, auth.now())
        enqueue(
            session, DELETE_JOB, {"template_id": template.id}, workspace_id=auth.workspace_id, mode=auth.mode
        )
    return template


async def find_sendable(
    session: AsyncSession, channel: Channel, name: str, language: str, *, param: str
) -> Template:
    """The approved template a send refers to, or the contract's error saying why not."""
    template = await session.scalar(
        select(Template).where(
            Template.channel_id == channel.id, Template.name == name, Template.language == language
        )
    )
    if template is None:
        raise NotFoundError(
            "template_not_found",
            f"No template '{name}' in language '{language}' on channel {channel.id}. "
            "Check the name and language, or submit it with POST /v1/channels/{id}/templates.",
            param=param,
        )
    if template.status not in SENDABLE_STATUSES:
        raise PolicyError(
            "template_not_approved",
            f"Template '{name}' ({language}) is {template.status}; only APPROVED templates can be sent."
            + (f" Rejected: {template.rejection_reason}." if template.rejection_reason else ""),
            param=param,
            details={"status": template.status, "rejection_reason": template.rejection_reason},
        )
    return template


async def history(session: AsyncSession, template: Template) -> list[StatusChangeOut]:
    rows = await session.scalars(
        select(TemplateStatusChange)
        .where(TemplateStatusChange.template_id == template.id)
        .order_by(TemplateStatusChange.at, TemplateStatusChange.id)
    )
    return [StatusChangeOut(status=r.status, reason=r.reason, at=r.at) for r in rows]


def to_out(template: Template, status_history: list[StatusChangeOut] | None = None) -> TemplateOut:
    return TemplateOut(
        id=template.id,
        channel_id=template.channel_id,
        name=template.name,
        language=template.language,
        category=template.category,
        status=template.status,
        rejection_reason=template.rejection_reason,
        quality_score=template.quality_score,
        components=template.components,
        variables=template.variables,
        status_history=status_history,
        created_at=template.created_at,
        updated_at=template.updated_at,
    )


async def apply_review(session: AsyncSession, channel: Channel, review: TemplateReview) -> None:
    """A provider's verdict or status change for a template (idempotent)."""
    template = await session.scalar(
        select(Template).where(
            Template.channel_id == channel.id, Template.provider_template_id == review.provider_template_id
        )
    ) or await session.scalar(
        select(Template).where(
            Template.channel_id == channel.id,
            Template.name == review.name,
            Template.language == review.language,
        )
    )
    if template is None:
        return
    status = TemplateStatus(review.status)
    if template.provider_template_id is None:
        template.provider_template_id = review.provider_template_id
    if template.status != status:
        record_status(session, template, status, review.timestamp, review.reason)
