"""The template lifecycle: submission, edits, deletion, the provider's verdicts and
notices (review, pauses, re-categorisation, quality), sync with the provider's list,
and the check a send makes. Every status or category change is kept in the template's
history and recorded as an event in the same transaction."""

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.channels.models import Channel, ChannelType
from omniroute.core.errors import ConflictError, InvalidRequestError, NotFoundError, PolicyError, not_found
from omniroute.core.ids import new_id
from omniroute.core.tenancy import Mode
from omniroute.core.time import rfc3339
from omniroute.events import service as events
from omniroute.events.types import EventType
from omniroute.jobs.queue import enqueue
from omniroute.policy.templates import (
    CATEGORY_CHANGE_NOTICE,
    EDIT_LIMITS,
    EDITABLE_STATUSES,
    LOCKED,
    NOTICE_ONLY_EVENTS,
    QUALITY_PAUSE_DURATIONS,
    REINSTATED,
    SENDABLE_STATUSES,
    UNLOCKED,
    RejectionReason,
    TemplateCategory,
    TemplateStatus,
)
from omniroute.providers.base import ProviderTemplate
from omniroute.providers.events import TemplateCategoryUpdate, TemplateQualityUpdate, TemplateReview
from omniroute.templates.lint import lint
from omniroute.templates.models import Template, TemplateStatusChange
from omniroute.templates.schemas import (
    CategoryChangeOut,
    QualityChangeOut,
    StatusChangeOut,
    TemplateCreate,
    TemplateEdit,
    TemplateOut,
)
from omniroute.templates.variables import expected_variables
from omniroute.workspaces.auth import AuthContext

log = logging.getLogger(__name__)

SUBMIT_JOB = "templates.submit"
EDIT_JOB = "templates.edit"
DELETE_JOB = "templates.delete"
UNPAUSE_JOB = "templates.unpause"


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
    """Move the template to ``status``, keep the change in its history and record the
    ``template.status_updated`` event. ``reason`` says why, in words."""
    template.status = status
    template.updated_at = at
    template.status_reason = reason
    if status != TemplateStatus.PAUSED:
        template.paused_until = None
    if status == TemplateStatus.REJECTED:
        template.rejection_reason = _rejection_code(reason)
    elif status in (TemplateStatus.APPROVED, TemplateStatus.PENDING):
        template.rejection_reason = None
        template.suggested_category = None
    session.add(
        TemplateStatusChange(id=new_id("tsc"), template_id=template.id, status=status, reason=reason, at=at)
    )
    _record_event(session, template, EventType.TEMPLATE_STATUS_UPDATED, at)


def _rejection_code(reason: str | None) -> str:
    """Meta's rejection reason code from a reason that may carry an explanation after it."""
    code = (reason or "").partition(":")[0].strip().upper()
    return code if code in RejectionReason.__members__ else RejectionReason.NONE.value


def _record_event(session: AsyncSession, template: Template, type: EventType, at: datetime) -> None:
    events.record(
        session,
        template,
        type,
        to_out(template).model_dump(mode="json"),
        at=at,
        template_id=template.id,
        channel_id=template.channel_id,
    )


def _stamp(at: datetime) -> str:
    """A time kept in a JSON column (RFC 3339, UTC)."""
    return at.astimezone(UTC).isoformat()


def _require_valid(definition: dict[str, Any]) -> None:
    result = lint(definition)
    if not result.valid:
        raise InvalidRequestError(
            "template_invalid",
            f"The template has {len(result.errors())} problem(s) Meta would reject it for; see details.issues.",
            details=result.as_dict(),
        )


async def create(
    session: AsyncSession, auth: AuthContext, channel: Channel, body: TemplateCreate
) -> Template:
    if channel.type != ChannelType.WHATSAPP:
        raise InvalidRequestError(
            "channel_type_unsupported", "Templates exist only on WhatsApp channels.", param="channel_id"
        )
    _require_valid(body.definition())
    existing = await find_by_name(session, channel.id, body.name, body.language)
    if existing is not None:
        raise ConflictError(
            "template_exists",
            f"Template '{body.name}' ({body.language}) already exists on this channel as {existing.id}.",
            param="name",
        )
    components = body.component_dicts()
    template = _new_template(channel, body.name, body.language, body.category, components, auth.now())
    template.message_send_ttl_seconds = body.message_send_ttl_seconds
    session.add(template)
    await session.flush()
    record_status(session, template, TemplateStatus.PENDING, auth.now())
    enqueue(session, SUBMIT_JOB, {"template_id": template.id}, workspace_id=auth.workspace_id, mode=auth.mode)
    return template


def _new_template(
    channel: Channel,
    name: str,
    language: str,
    category: str,
    components: list[dict[str, Any]],
    at: datetime,
) -> Template:
    return Template(
        id=new_id("tpl"),
        workspace_id=channel.workspace_id,
        mode=channel.mode,
        channel_id=channel.id,
        name=name,
        language=language,
        category=category,
        status=TemplateStatus.PENDING,
        components=components,
        variables=expected_variables(components),
        pause_count=0,
        locked=False,
        category_history=[],
        quality_history=[],
        edits=[],
        created_at=at,
        updated_at=at,
    )


async def find_by_name(session: AsyncSession, channel_id: str, name: str, language: str) -> Template | None:
    """The channel's template of that name and language, whatever its status."""
    return await session.scalar(
        select(Template).where(
            Template.channel_id == channel_id, Template.name == name, Template.language == language
        )
    )


async def edit(session: AsyncSession, auth: AuthContext, template: Template, body: TemplateEdit) -> Template:
    """New components for a template, within Meta's edit rules; it goes back to review."""
    now = auth.now()
    if template.status not in EDITABLE_STATUSES:
        raise ConflictError(
            "template_not_editable",
            f"Template {template.id} is {template.status}; only APPROVED, REJECTED or PAUSED templates "
            "can be edited. Wait for the review, or create a new template.",
            details={"status": template.status},
        )
    if template.locked:
        raise ConflictError(
            "template_locked",
            f"Meta locked template {template.id}; it cannot be edited until Meta unlocks it.",
            details={"status": template.status},
        )
    category = body.category or TemplateCategory(template.category)
    if category != template.category and template.status != TemplateStatus.REJECTED:
        raise InvalidRequestError(
            "template_category_not_editable",
            f"Only a rejected template can change its category; this one is {template.status}.",
            param="category",
        )
    components = body.component_dicts()
    _require_valid(
        {"name": template.name, "language": template.language, "category": category, "components": components}
    )
    if template.status == TemplateStatus.APPROVED:
        _refuse_beyond_edit_limits(template, now)
        template.edits = [*template.edits, _stamp(now)]
    template.category = category
    template.components = components
    template.variables = expected_variables(components)
    record_status(session, template, TemplateStatus.PENDING, now, "Edited; in review again.")
    job = EDIT_JOB if template.provider_template_id else SUBMIT_JOB
    enqueue(session, job, {"template_id": template.id}, workspace_id=auth.workspace_id, mode=auth.mode)
    return template


def _refuse_beyond_edit_limits(template: Template, now: datetime) -> None:
    edits = [datetime.fromisoformat(at) for at in template.edits]
    for period, limit in EDIT_LIMITS:
        recent = sorted(at for at in edits if at > now - period)
        if len(recent) >= limit:
            next_allowed = recent[-limit] + period
            hours = period / timedelta(hours=1)
            raise ConflictError(
                "template_edit_limit_reached",
                f"An approved template may be edited {limit} time(s) per {hours:g} hours; "
                f"edit it again after {rfc3339(next_allowed)}.",
                details={
                    "limit": limit,
                    "period_hours": hours,
                    "next_edit_allowed_at": rfc3339(next_allowed),
                },
            )


async def delete(session: AsyncSession, auth: AuthContext, template: Template) -> Template:
    if template.status not in (TemplateStatus.DELETED, TemplateStatus.PENDING_DELETION):
        record_status(session, template, TemplateStatus.PENDING_DELETION, auth.now())
        enqueue(
            session, DELETE_JOB, {"template_id": template.id}, workspace_id=auth.workspace_id, mode=auth.mode
        )
    return template


def require_sendable(
    template: Template | None, channel: Channel, name: str, language: str, param: str
) -> Template:
    """The template a send refers to if it may be sent, or the contract's error saying why not."""
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
            f"Template '{name}' ({language}) is {template.status}; only APPROVED templates can be sent. "
            + _why_not_sendable(template),
            param=param,
            details={
                "status": template.status,
                "rejection_reason": template.rejection_reason,
                "reason": template.status_reason,
                "paused_until": rfc3339(template.paused_until) if template.paused_until else None,
            },
        )
    return template


def _why_not_sendable(template: Template) -> str:
    if template.status == TemplateStatus.PAUSED and template.paused_until is not None:
        return f"{template.status_reason} It can be sent again after {rfc3339(template.paused_until)}."
    if template.status == TemplateStatus.DISABLED:
        return f"Disabled: {template.status_reason or 'by Meta'}. Create a new template to send this content."
    if template.status == TemplateStatus.REJECTED:
        return f"Rejected: {template.rejection_reason}. Edit it to submit it again."
    return template.status_reason or ""


async def history(session: AsyncSession, template: Template) -> list[StatusChangeOut]:
    rows = await session.scalars(
        select(TemplateStatusChange)
        .where(TemplateStatusChange.template_id == template.id)
        .order_by(TemplateStatusChange.at, TemplateStatusChange.id)
    )
    return [StatusChangeOut(status=r.status, reason=r.reason, at=r.at) for r in rows]


def to_out(template: Template, status_history: list[StatusChangeOut] | None = None) -> TemplateOut:
    category_history = [CategoryChangeOut.model_validate(c) for c in template.category_history or []]
    return TemplateOut(
        id=template.id,
        channel_id=template.channel_id,
        name=template.name,
        language=template.language,
        category=template.category,
        status=template.status,
        rejection_reason=template.rejection_reason,
        suggested_category=template.suggested_category,
        status_reason=template.status_reason,
        paused_until=template.paused_until,
        pause_count=template.pause_count or 0,
        locked=bool(template.locked),
        quality_score=template.quality_score,
        quality_history=[QualityChangeOut.model_validate(q) for q in template.quality_history or []],
        category_history=category_history,
        pending_category_change=next((c for c in category_history if c.completed_at is None), None),
        components=template.components,
        message_send_ttl_seconds=template.message_send_ttl_seconds,
        variables=template.variables,
        status_history=status_history,
        created_at=template.created_at,
        updated_at=template.updated_at,
    )


async def _provider_template(
    session: AsyncSession, channel: Channel, provider_template_id: str | None, name: str, language: str
) -> Template | None:
    """The template a provider event is about: by the provider's id, else by name and language."""
    if provider_template_id is not None:
        template = await session.scalar(
            select(Template).where(
                Template.channel_id == channel.id, Template.provider_template_id == provider_template_id
            )
        )
        if template is not None:
            return template
    template = await find_by_name(session, channel.id, name, language)
    if template is None:
        log.warning("template event for unknown template %s (%s) on %s", name, language, channel.id)
    return template


async def apply_review(session: AsyncSession, channel: Channel, review: TemplateReview) -> None:
    """A provider's verdict or status change for a template. A duplicate, or an event
    older than the template's last status change, changes nothing. Meta stamps webhooks
    to the second, so a verdict stamped in the second of our last change (a quick review)
    follows it and is recorded no earlier than it."""
    template = await _provider_template(
        session, channel, review.provider_template_id, review.name, review.language
    )
    if template is None or review.timestamp < template.updated_at.replace(microsecond=0):
        return
    at = max(review.timestamp, template.updated_at)
    if template.provider_template_id is None:
        template.provider_template_id = review.provider_template_id
    event = review.status.upper()
    if event in NOTICE_ONLY_EVENTS:
        await _note(session, template, event, at, review.reason)
        return
    status = TemplateStatus.APPROVED if event == REINSTATED else TemplateStatus.__members__.get(event)
    if status is None:
        log.warning("template %s: unknown status %r from the provider", template.id, review.status)
        return
    apply_status(session, template, status, at, review.reason, review.suggested_category)


def apply_status(
    session: AsyncSession,
    template: Template,
    status: TemplateStatus,
    at: datetime,
    reason: str | None = None,
    suggested_category: str | None = None,
) -> bool:
    """Bring the template to the provider's ``status``; False when it already is there."""
    if template.status == status:
        return False
    if status == TemplateStatus.PAUSED:
        pause(session, template, at)
        return True
    if status == TemplateStatus.REJECTED and suggested_category in TemplateCategory.__members__:
        template.suggested_category = suggested_category
    record_status(session, template, status, at, reason)
    return True


def pause(session: AsyncSession, template: Template, at: datetime) -> None:
    """A quality pause: the first lasts 3 h, the second 6 h, the third disables the template."""
    template.pause_count = (template.pause_count or 0) + 1
    count, allowed = template.pause_count, len(QUALITY_PAUSE_DURATIONS)
    if count > allowed:
        record_status(
            session,
            template,
            TemplateStatus.DISABLED,
            at,
            f"Disabled: its quality dropped again after {allowed} quality pauses (customers kept "
            "blocking or reporting it).",
        )
        return
    duration = QUALITY_PAUSE_DURATIONS[count - 1]
    template.paused_until = at + duration
    record_status(
        session,
        template,
        TemplateStatus.PAUSED,
        at,
        f"Quality pause {count} of {allowed} for {duration / timedelta(hours=1):g} h: customers blocked "
        "or reported it.",
    )
    enqueue(
        session,
        UNPAUSE_JOB,
        {"template_id": template.id},
        delay=duration.total_seconds(),
        workspace_id=template.workspace_id,
        mode=Mode(template.mode),
    )


async def _note(
    session: AsyncSession, template: Template, event: str, at: datetime, reason: str | None
) -> None:
    """A webhook-only notice (FLAGGED, ARCHIVED, LOCKED, UNLOCKED): kept in the history,
    the status stays as it is."""
    seen = await session.scalar(
        select(TemplateStatusChange.id).where(
            TemplateStatusChange.template_id == template.id,
            TemplateStatusChange.status == event,
            TemplateStatusChange.at == at,
        )
    )
    if seen is not None:
        return
    if event in (LOCKED, UNLOCKED):
        template.locked = event == LOCKED
    session.add(
        TemplateStatusChange(id=new_id("tsc"), template_id=template.id, status=event, reason=reason, at=at)
    )


async def apply_category_update(
    session: AsyncSession, channel: Channel, update: TemplateCategoryUpdate
) -> None:
    """Meta announces a re-categorisation a day ahead, then completes it."""
    template = await _provider_template(
        session, channel, update.provider_template_id, update.name, update.language
    )
    if template is not None:
        change_category(
            session, template, update.previous_category, update.new_category, update.stage, update.timestamp
        )


def change_category(
    session: AsyncSession, template: Template, previous: str, new: str, stage: str, at: datetime
) -> bool:
    """Keep an announced or completed re-categorisation on the template and record
    ``template.category_updated``; a duplicate or late stage changes nothing."""
    if template.category == new:
        return False
    changes = [dict(c) for c in template.category_history or []]
    pending = next(
        (
            c
            for c in changes
            if c["completed_at"] is None and (c["previous_category"], c["new_category"]) == (previous, new)
        ),
        None,
    )
    if stage == "announced":
        if pending is not None:
            return False
        changes.append(
            {
                "previous_category": previous,
                "new_category": new,
                "announced_at": _stamp(at),
                "effective_at": _stamp(at + CATEGORY_CHANGE_NOTICE),
                "completed_at": None,
            }
        )
    else:
        if pending is None:
            pending = {
                "previous_category": previous,
                "new_category": new,
                "announced_at": None,
                "effective_at": None,
            }
            changes.append(pending)
        pending["completed_at"] = _stamp(at)
        template.category = TemplateCategory(new)
    template.category_history = changes
    _record_event(session, template, EventType.TEMPLATE_CATEGORY_UPDATED, at)
    return True


async def apply_quality_update(
    session: AsyncSession, channel: Channel, update: TemplateQualityUpdate
) -> None:
    """A new quality score, kept with the previous one; a duplicate or late one changes nothing."""
    template = await _provider_template(
        session, channel, update.provider_template_id, update.name, update.language
    )
    if template is None:
        return
    _record_quality(template, update.new_score, update.timestamp)


def _record_quality(template: Template, score: str, at: datetime) -> bool:
    changes = template.quality_history or []
    if template.quality_score == score or (changes and datetime.fromisoformat(changes[-1]["at"]) > at):
        return False
    template.quality_history = [
        *changes,
        {"previous_score": template.quality_score, "new_score": score, "at": _stamp(at)},
    ]
    template.quality_score = score
    return True


async def sync(
    session: AsyncSession, auth: AuthContext, channel: Channel, listed: list[ProviderTemplate]
) -> dict[str, int]:
    """Reconcile the channel's templates with the provider's full list: create the new,
    update what changed (with history and events), mark the ones gone as DELETED."""
    now = auth.now()
    counts = {"created": 0, "updated": 0, "deleted": 0, "unchanged": 0}
    local = list(await session.scalars(scoped(auth).where(Template.channel_id == channel.id)))
    by_id = {t.provider_template_id: t for t in local if t.provider_template_id}
    by_name = {(t.name, t.language): t for t in local}
    seen: set[str] = set()
    for remote in listed:
        status = TemplateStatus.__members__.get(remote.status.upper())
        if status is None:
            log.warning(
                "sync of %s: template %s has unknown status %r", channel.id, remote.name, remote.status
            )
            continue
        template = by_id.get(remote.provider_template_id) or by_name.get((remote.name, remote.language))
        if template is None:
            template = _new_template(
                channel, remote.name, remote.language, remote.category, remote.components, now
            )
            template.provider_template_id = remote.provider_template_id
            session.add(template)
            await session.flush()
            if not apply_status(session, template, status, now, remote.rejection_reason):
                record_status(session, template, status, now)
            if remote.quality_score:
                _record_quality(template, remote.quality_score, now)
            counts["created"] += 1
        else:
            counts["updated" if _reconcile(session, template, remote, status, now) else "unchanged"] += 1
        seen.add(template.id)
    for template in local:
        gone = template.id not in seen and template.provider_template_id is not None
        if gone and template.status != TemplateStatus.DELETED:
            record_status(session, template, TemplateStatus.DELETED, now, "Deleted at the provider.")
            counts["deleted"] += 1
    return counts


def _reconcile(
    session: AsyncSession, template: Template, remote: ProviderTemplate, status: TemplateStatus, at: datetime
) -> bool:
    """Bring one template in line with the provider's copy; True if anything changed."""
    changed = template.provider_template_id != remote.provider_template_id
    template.provider_template_id = remote.provider_template_id
    if template.components != remote.components:
        template.components = remote.components
        template.variables = expected_variables(remote.components)
        changed = True
    if change_category(session, template, template.category, remote.category, "completed", at):
        changed = True
    if remote.quality_score and _record_quality(template, remote.quality_score, at):
        changed = True
    if template.status == TemplateStatus.PENDING_DELETION and status != TemplateStatus.DELETED:
        return changed  # our deletion is on its way to the provider
    return apply_status(session, template, status, at, remote.rejection_reason) or changed
