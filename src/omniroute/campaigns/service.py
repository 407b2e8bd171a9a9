"""Campaigns: create (recipients screened and inserted in bulk), run (messages made in
batches by the ``campaigns.run`` task, in the bulk lane), guard (pause on a quality drop,
a paused template or a burst of quality failures), pause, resume, cancel, and counts.

A WhatsApp campaign sends an approved template; an SMS or email campaign a text or an
email whose ``{{variable}}`` placeholders are filled per recipient. Tier, window and
template rules are WhatsApp's; opt-outs and the marketing frequency cap apply to all."""

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from omniroute.campaigns.models import Campaign, CampaignRecipient, CampaignStatus, OnLimit, RecipientStatus
from omniroute.campaigns.recipients import Row, Screened, Shape, TemplateShape, TextShape, screen
from omniroute.campaigns.schemas import CampaignCounts, CampaignOut, CampaignSettings, Money, RecipientOut
from omniroute.channels import service as channels
from omniroute.channels.models import Channel, ChannelType
from omniroute.config import get_settings
from omniroute.contacts.models import Contact, ContactOptOut
from omniroute.conversations.models import Conversation
from omniroute.core.db import Base
from omniroute.core.errors import APIError, ConflictError, InvalidRequestError, PolicyError, not_found
from omniroute.core.ids import new_id
from omniroute.core.tenancy import Mode, Tenant, TenantRef
from omniroute.core.upsert import insert_all_absent
from omniroute.events import service as events
from omniroute.events.types import EventType
from omniroute.jobs import queue
from omniroute.jobs.models import Job
from omniroute.messages import service as messages
from omniroute.messages.facts import BatchFacts, business_initiated
from omniroute.messages.models import Direction, Message, MessageStatus, MessageStatusChange, Priority
from omniroute.policy.limits import MESSAGING_LIMIT_PERIOD, QualityRating, tier_limit
from omniroute.policy.templates import TemplateCategory, TemplateStatus
from omniroute.templates import service as templates
from omniroute.templates.models import Template
from omniroute.workspaces.models import Workspace

RUN_JOB = "campaigns.run"
RECIPIENTS_TABLE = Table("campaign_recipients", Base.metadata)
"""The Core table: its multi-row INSERT skips the ORM's per-row bookkeeping."""
INSERT_CHUNK = 5_000
"""Recipient rows per multi-row INSERT at creation."""
CANCELLED_CODE = "campaign_cancelled"
FREQUENCY_CAPPED_CODE = "marketing_frequency_capped"
CONTENT_KINDS = {ChannelType.SMS: "text", ChannelType.EMAIL: "email"}
"""What an SMS or email campaign sends instead of a WhatsApp template."""


@dataclass(frozen=True)
class Target:
    """What a campaign sends with: its channel, and its approved template (WhatsApp) or
    its text or email with the campaign's category (SMS, email)."""

    channel: Channel
    template: Template | None = None
    content: dict[str, Any] | None = None

    @property
    def category(self) -> str:
        return self.template.category if self.template is not None else str((self.content or {})["category"])

    @property
    def is_marketing(self) -> bool:
        return self.category == TemplateCategory.MARKETING

    @property
    def shape(self) -> Shape:
        if self.template is not None:
            return TemplateShape(self.template.variables)
        kind = CONTENT_KINDS[ChannelType(self.channel.type)]
        return TextShape(kind, (self.content or {})[kind])

    def address_of(self, raw: str) -> str:
        return messages.recipient_address(self.channel, raw)


def shape_of(campaign: Campaign, channel: Channel) -> TextShape:
    """An SMS or email campaign's content and its placeholders."""
    kind = CONTENT_KINDS[ChannelType(channel.type)]
    return TextShape(kind, (campaign.content or {})[kind])


def scoped(tenant: Tenant) -> Select[Campaign]:
    return select(Campaign).where(Campaign.workspace_id == tenant.workspace_id, Campaign.mode == tenant.mode)


async def get(session: AsyncSession, tenant: Tenant, campaign_id: str, *, lock: bool = False) -> Campaign:
    """The tenant's campaign (locked for update if ``lock``), or 404."""
    statement = scoped(tenant).where(Campaign.id == campaign_id)
    campaign = await session.scalar(statement.with_for_update() if lock else statement)
    if campaign is None:
        raise not_found("campaign", campaign_id)
    return campaign


def _unsupported(channel: Channel, field: str, takes: str) -> APIError:
    return InvalidRequestError(
        "channel_type_unsupported",
        f"Channel {channel.id} is a {channel.type} channel: it takes {takes}.",
        param=field,
    )


async def target(session: AsyncSession, tenant: Tenant, settings: CampaignSettings) -> Target:
    """The campaign's channel and what it sends, or the contract's error (nothing stored)."""
    channel = await channels.get(session, tenant, settings.channel_id, param="channel_id")
    channels.require_usable(channel)
    given = {f for f in ("template", "text", "email", "category") if getattr(settings, f) is not None}
    if channel.type == ChannelType.WHATSAPP:
        for field in sorted(given - {"template"}):
            raise _unsupported(channel, field, "an approved 'template' (its category is the template's)")
        if settings.template is None:
            raise InvalidRequestError(
                "parameter_missing",
                "A WhatsApp campaign sends an approved template: give 'template'.",
                param="template",
            )
        name, language = settings.template.name, settings.template.language
        template = templates.require_sendable(
            await templates.find_by_name(session, channel.id, name, language),
            channel,
            name,
            language,
            "template.name",
        )
        return Target(channel, template=template)
    kind = CONTENT_KINDS.get(ChannelType(channel.type))
    if kind is None:
        raise _unsupported(channel, "channel_id", "no campaigns (WhatsApp, SMS and email channels do)")
    for field in sorted(given - {kind, "category"}):
        raise _unsupported(channel, field, f"'{kind}' content")
    content = getattr(settings, kind)
    if content is None:
        raise InvalidRequestError(
            "parameter_missing", f"A {channel.type} campaign sends '{kind}' content: give it.", param=kind
        )
    if kind == "email" and content.attachments:
        raise InvalidRequestError(
            "parameter_invalid",
            "Campaign emails carry no attachments (each recipient would get a copy of the bytes); link "
            "to the file instead.",
            param="email.attachments",
        )
    category = (settings.category or "marketing").upper()
    return Target(
        channel,
        content={"category": category, kind: content.model_dump(exclude_none=True, exclude_defaults=True)},
    )


async def opted_out_addresses(session: AsyncSession, goal: Target) -> set[str]:
    """The addresses the campaign must skip: on WhatsApp those opted out of a marketing
    campaign's channel (utility and authentication templates still go); on SMS and email,
    every opt-out of the channel (nothing but a template goes to them)."""
    if goal.template is not None and not goal.is_marketing:
        return set()
    rows = await session.scalars(
        select(Contact.address)
        .join(ContactOptOut, ContactOptOut.contact_id == Contact.id)
        .where(ContactOptOut.channel_id == goal.channel.id)
    )
    return set(rows)


async def create(
    session: AsyncSession,
    tenant: Tenant,
    now: datetime,
    settings: CampaignSettings,
    rows_for: Callable[[Shape], Iterable[Row]],
) -> Campaign:
    """Store the campaign and its screened recipients (in multi-row INSERTs of
    ``INSERT_CHUNK``; ``rows`` is consumed once, as it streams) and schedule its run."""
    goal = await target(session, tenant, settings)
    schedule_at = settings.schedule_at if settings.schedule_at and settings.schedule_at > now else None
    campaign = Campaign(
        id=new_id("cmp"),
        workspace_id=tenant.workspace_id,
        mode=tenant.mode,
        channel_id=goal.channel.id,
        name=settings.name,
        template=None
        if goal.template is None
        else {
            "id": goal.template.id,
            "name": goal.template.name,
            "language": goal.template.language,
            "category": goal.template.category,
        },
        content=goal.content,
        status=CampaignStatus.SCHEDULED if schedule_at else CampaignStatus.RUNNING,
        on_limit=settings.on_limit,
        schedule_at=schedule_at,
        total=0,
        created_at=now,
    )
    session.add(campaign)
    await session.flush()
    chunk: list[dict[str, Any]] = []
    shape = goal.shape
    for screened in screen(rows_for(shape), shape, await opted_out_addresses(session, goal), goal.address_of):
        chunk.append(_recipient_row(campaign.id, screened))
        if len(chunk) == INSERT_CHUNK:
            await _insert_recipients(session, chunk)
            campaign.total += len(chunk)
            chunk = []
    if chunk:
        await _insert_recipients(session, chunk)
        campaign.total += len(chunk)
    if campaign.total == 0:
        raise _empty()
    if campaign.status == CampaignStatus.RUNNING:
        start(session, campaign, now)
    delay = (schedule_at - now).total_seconds() if schedule_at else 0.0
    _enqueue_run(session, campaign, delay)
    return campaign


def _empty() -> APIError:
    return InvalidRequestError("parameter_missing", "The recipient list has no rows.", param="recipients")


def recipient_id(campaign_id: str, row: int) -> str:
    """``cmr_<the campaign's id part>_<row>``: unique, in list order, and cheap to make for
    100,000 rows."""
    return f"cmr_{campaign_id.removeprefix('cmp_')}_{row:07d}"


def _recipient_row(campaign_id: str, screened: Screened) -> dict[str, Any]:
    return {
        "id": recipient_id(campaign_id, screened.row.number),
        "campaign_id": campaign_id,
        "row": screened.row.number,
        "to": screened.to,
        "parameters": screened.row.parameters or None,
        "reference": screened.row.reference,
        "status": RecipientStatus.SKIPPED if screened.reason else RecipientStatus.PENDING,
        "reason": screened.reason,
        "detail": screened.detail,
        "message_id": None,
    }


async def _insert_recipients(session: AsyncSession, chunk: list[dict[str, Any]]) -> None:
    """One multi-row INSERT (executemany; SQLAlchemy batches it into INSERT … VALUES
    (…), (…) on both databases)."""
    await session.execute(insert(RECIPIENTS_TABLE), chunk)


def _enqueue_run(session: AsyncSession, campaign: Campaign, delay: float) -> None:
    queue.enqueue(
        session,
        RUN_JOB,
        {"campaign_id": campaign.id},
        delay=delay,
        # The normal lane: the run only makes (bulk-lane) messages, and must not starve
        # behind the other work of a busy worker.
        priority=queue.PRIORITY_NORMAL,
        workspace_id=campaign.workspace_id,
        mode=Mode(campaign.mode),
        max_attempts=1_000_000,
        job_id=run_job_id(campaign.id),
    )


def run_job_id(campaign_id: str) -> str:
    return f"job_run_{campaign_id}"


def dispatch_job_id(message_id: str) -> str:
    """A campaign message's dispatch job has a known id, so pausing can take it back."""
    return f"job_{message_id}"


def _record(session: AsyncSession, campaign: Campaign, type: EventType, at: datetime, **data: Any) -> None:
    events.record(
        session,
        campaign,
        type,
        {"campaign": {"id": campaign.id, "name": campaign.name, "status": campaign.status}, **data},
        at=at,
        campaign_id=campaign.id,
        channel_id=campaign.channel_id,
    )


def start(session: AsyncSession, campaign: Campaign, now: datetime) -> None:
    campaign.status = CampaignStatus.RUNNING
    campaign.started_at = now
    _record(session, campaign, EventType.CAMPAIGN_STARTED, now)


def not_handed_over() -> ColumnElement[bool]:
    """Messages not at the provider: queued, or waiting to be tried again (``sending``
    with no call in progress, no provider id and no unknown outcome)."""
    return or_(
        Message.status == MessageStatus.QUEUED,
        and_(
            Message.status == MessageStatus.SENDING,
            Message.provider_call_started_at.is_(None),
            Message.provider_message_id.is_(None),
            Message.outcome_unknown_since.is_(None),
        ),
    )


async def queued_message_ids(session: AsyncSession, campaign: Campaign) -> list[str]:
    """The campaign's messages not handed over, in id order (the order dispatch locks in)."""
    rows = await session.scalars(
        select(Message.id).where(Message.campaign_id == campaign.id, not_handed_over()).order_by(Message.id)
    )
    return list(rows)


async def _take_back_dispatch(session: AsyncSession, message_ids: Sequence[str]) -> None:
    """Delete the dispatch jobs of these queued messages that no worker holds now (a held
    one may be at the provider already: it finishes)."""
    for start in range(0, len(message_ids), 1000):
        ids = [dispatch_job_id(m) for m in message_ids[start : start + 1000]]
        await session.execute(delete(Job).where(Job.id.in_(ids), Job.locked_by.is_(None)))


def _require(campaign: Campaign, allowed: tuple[CampaignStatus, ...], action: str) -> None:
    if campaign.status not in allowed:
        raise ConflictError(
            "campaign_state_invalid",
            f"Campaign {campaign.id} is {campaign.status}; it can be {action}d only when "
            f"{' or '.join(allowed)}.",
            details={"status": campaign.status},
        )


async def pause(session: AsyncSession, campaign: Campaign, now: datetime, reason: str) -> None:
    """Stop making and sending the campaign's messages; its queued messages stay queued
    (dispatch puts them back every few seconds while the campaign is paused) until ``resume``."""
    _require(campaign, (CampaignStatus.RUNNING, CampaignStatus.SCHEDULED), "pause")
    campaign.status = CampaignStatus.PAUSED
    campaign.paused_reason = reason
    _record(session, campaign, EventType.CAMPAIGN_PAUSED, now, reason=reason)


async def resume(session: AsyncSession, campaign: Campaign, now: datetime) -> None:
    _require(campaign, (CampaignStatus.PAUSED,), "resume")
    campaign.status = CampaignStatus.RUNNING if campaign.started_at else CampaignStatus.SCHEDULED
    campaign.paused_reason = None
    campaign.resumed_at = now
    queued = await queued_message_ids(session, campaign)
    for first in range(0, len(queued), 1000):
        chunk = queued[first : first + 1000]
        existing = set(
            await session.scalars(select(Job.id).where(Job.id.in_([dispatch_job_id(m) for m in chunk])))
        )
        # Dispatch put them back while paused: bring them forward.
        await session.execute(
            update(Job).where(Job.id.in_(existing), Job.locked_by.is_(None)).values(run_at=time.time())
        )
        for message_id in chunk:
            if dispatch_job_id(message_id) not in existing:
                _enqueue_dispatch(session, campaign, message_id)
    # The run job stays while the campaign is paused (checking every few seconds): bring
    # it forward, or make it again if it is gone (a worker that holds it reschedules it).
    delay = max(
        (campaign.schedule_at - now).total_seconds()
        if campaign.schedule_at and not campaign.started_at
        else 0,
        0.0,
    )
    run_job = await session.get(Job, run_job_id(campaign.id), with_for_update=True)
    if run_job is None:
        _enqueue_run(session, campaign, delay)
    elif run_job.locked_by is None:
        run_job.run_at = time.time() + delay


async def cancel(session: AsyncSession, campaign: Campaign, now: datetime) -> None:
    """Queued messages fail with ``campaign_cancelled``; sent ones stay."""
    _require(campaign, (CampaignStatus.RUNNING, CampaignStatus.SCHEDULED, CampaignStatus.PAUSED), "cancel")
    campaign.status = CampaignStatus.CANCELLED
    campaign.paused_reason = None
    queued = await queued_message_ids(session, campaign)
    await _take_back_dispatch(session, queued)
    for start in range(0, len(queued), 500):
        # Locked in id order, as dispatch locks them; one dispatch marked as being sent
        # meanwhile no longer matches once its lock is released, and goes.
        rows = await session.scalars(
            select(Message)
            .where(Message.id.in_(queued[start : start + 500]), not_handed_over())
            .order_by(Message.id)
            .with_for_update()
        )
        for message in rows:
            messages.fail(
                session, message, now, code=CANCELLED_CODE, text=f"Campaign {campaign.id} was cancelled."
            )
    await session.execute(
        update(CampaignRecipient)
        .where(
            CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.status == RecipientStatus.PENDING
        )
        .values(status=RecipientStatus.CANCELLED)
    )
    await session.execute(delete(Job).where(Job.id == run_job_id(campaign.id), Job.locked_by.is_(None)))


def _enqueue_dispatch(session: AsyncSession, campaign: Campaign, message_id: str) -> None:
    queue.enqueue(
        session,
        messages.DISPATCH_JOB,
        {"message_id": message_id},
        priority=queue.PRIORITY_BULK,
        workspace_id=campaign.workspace_id,
        mode=Mode(campaign.mode),
        job_id=dispatch_job_id(message_id),
    )


# -- counts ---------------------------------------------------------------------------


async def counts(session: AsyncSession, campaign: Campaign) -> tuple[CampaignCounts, Money]:
    by_recipient = dict(
        (
            await session.execute(
                select(CampaignRecipient.status, func.count())
                .where(CampaignRecipient.campaign_id == campaign.id)
                .group_by(CampaignRecipient.status)
            )
        ).all()
    )
    by_message = dict(
        (
            await session.execute(
                select(Message.status, func.count())
                .where(Message.campaign_id == campaign.id)
                .group_by(Message.status)
            )
        ).all()
    )
    reply = aliased(Message)
    replied = await session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.campaign_id == campaign.id,
            exists().where(
                reply.contact_id == Message.contact_id,
                reply.channel_id == Message.channel_id,
                reply.direction == Direction.INBOUND,
                reply.created_at > Message.created_at,
            ),
        )
    )
    capped = await session.scalar(
        select(func.count()).where(
            CampaignRecipient.campaign_id == campaign.id,
            CampaignRecipient.status == RecipientStatus.SKIPPED,
            CampaignRecipient.reason == FREQUENCY_CAPPED_CODE,
        )
    )
    read = by_message.get(MessageStatus.READ, 0)
    delivered = by_message.get(MessageStatus.DELIVERED, 0) + read
    sent = by_message.get(MessageStatus.SENT, 0) + delivered
    result = CampaignCounts(
        total=campaign.total,
        queued=by_recipient.get(RecipientStatus.PENDING, 0)
        + by_message.get(MessageStatus.QUEUED, 0)
        + by_message.get(MessageStatus.SENDING, 0),
        sent=sent,
        delivered=delivered,
        read=read,
        failed=by_message.get(MessageStatus.FAILED, 0),
        replied=replied or 0,
        skipped=by_recipient.get(RecipientStatus.SKIPPED, 0),
        frequency_capped=capped or 0,
        cancelled=by_recipient.get(RecipientStatus.CANCELLED, 0),
    )
    prices = await session.scalars(
        select(Message.pricing).where(Message.campaign_id == campaign.id, Message.pricing.is_not(None))
    )
    return result, total_cost(prices)


def total_cost(prices: Iterable[dict[str, Any] | None]) -> Money:
    """The sum of what the providers' pricing objects say was charged."""
    amount, currency = Decimal("0"), "USD"
    for pricing in prices:
        cost = (pricing or {}).get("cost") or {}
        if (pricing or {}).get("billable") and cost.get("amount") is not None:
            amount += Decimal(str(cost["amount"]))
            currency = str(cost.get("currency", currency))
    return Money(amount=str(amount), currency=currency)


async def to_out(session: AsyncSession, campaign: Campaign) -> CampaignOut:
    campaign_counts, cost = await counts(session, campaign)
    return CampaignOut(
        id=campaign.id,
        channel_id=campaign.channel_id,
        name=campaign.name,
        category=campaign.category,
        template=campaign.template,
        content=campaign.content,
        status=campaign.status,
        paused_reason=campaign.paused_reason,
        on_limit=campaign.on_limit,
        schedule_at=campaign.schedule_at,
        counts=campaign_counts,
        cost=cost,
        started_at=campaign.started_at,
        completed_at=campaign.completed_at,
        created_at=campaign.created_at,
    )


RECIPIENT_FILTERS = ("pending", "skipped", "cancelled", *(s.value for s in MessageStatus if s != "received"))


def recipients_query(campaign: Campaign, status: str | None) -> Select[CampaignRecipient, Message]:
    statement = (
        select(CampaignRecipient, Message)
        .outerjoin(Message, Message.id == CampaignRecipient.message_id)
        .where(CampaignRecipient.campaign_id == campaign.id)
    )
    if status in (RecipientStatus.PENDING, RecipientStatus.SKIPPED, RecipientStatus.CANCELLED):
        statement = statement.where(CampaignRecipient.status == status)
    elif status is not None:
        statement = statement.where(
            and_(CampaignRecipient.status == RecipientStatus.QUEUED, Message.status == status)
        )
    return statement


def recipient_out(recipient: CampaignRecipient, message: Message | None) -> RecipientOut:
    error = (message.error or {}) if message is not None else {}
    return RecipientOut(
        id=recipient.id,
        row=recipient.row,
        to=recipient.to,
        reference=recipient.reference,
        status=message.status if message is not None else recipient.status,
        reason=recipient.reason or error.get("code"),
        detail=recipient.detail or error.get("message"),
        message_id=recipient.message_id,
    )


# -- the guard --------------------------------------------------------------------------


QUALITY_FAILURE_CODES = (131048, 131049, 131050)
"""Meta's failures that say recipients are refusing or reporting the business."""


async def guard_reason(
    session: AsyncSession, campaign: Campaign, channel: Channel, threshold: int
) -> str | None:
    """Why the campaign must stop now, or None: the number's quality is RED, its template
    is paused or disabled, or ``threshold`` of its messages failed with a quality code."""
    if channel.quality_rating == QualityRating.RED:
        return "channel_quality_red"
    if campaign.template is not None:
        template = await session.get(Template, campaign.template["id"])
        if template is None or template.status in (TemplateStatus.PAUSED, TemplateStatus.DISABLED):
            return f"template_{(template.status if template else 'deleted').lower()}"
        if template.status != TemplateStatus.APPROVED:
            return f"template_{template.status.lower()}"
    since = campaign.resumed_at or campaign.started_at
    failed = select(Message.error).where(
        Message.campaign_id == campaign.id, Message.status == MessageStatus.FAILED
    )
    failures = await session.scalars(failed.where(Message.updated_at >= since) if since else failed)
    burst = sum(
        1 for error in failures if str((error or {}).get("provider_code")) in map(str, QUALITY_FAILURE_CODES)
    )
    if burst >= threshold:
        return "quality_failures"
    return None


# -- the marketing frequency cap ----------------------------------------------------------

FREQUENCY_CAP_SETTING = "marketing_frequency_cap_hours"


def frequency_cap_hours(workspace: Workspace, mode: Mode | str) -> int:
    """The workspace's marketing frequency cap in this mode (0: none)."""
    hours = workspace.setting(FREQUENCY_CAP_SETTING, mode)
    return hours if hours is not None else get_settings().marketing_frequency_cap_hours


def marketing_messages(tenant: Tenant | TenantRef, since: datetime) -> Select[str]:
    """The contacts sent a marketing message (a marketing template, or a message of a
    marketing SMS or email campaign) from the workspace since ``since``, not failed."""
    marketing_campaigns = select(Campaign.id).where(
        Campaign.workspace_id == tenant.workspace_id,
        Campaign.mode == tenant.mode,
        Campaign.content["category"].as_string() == TemplateCategory.MARKETING,
    )
    return select(Message.contact_id).where(
        Message.workspace_id == tenant.workspace_id,
        Message.mode == tenant.mode,
        Message.direction == Direction.OUTBOUND,
        Message.created_at > since,
        Message.status != MessageStatus.FAILED,
        (Message.template["category"].as_string() == TemplateCategory.MARKETING)
        | Message.campaign_id.in_(marketing_campaigns),
    )


async def recently_marketed(
    session: AsyncSession, tenant: Tenant | TenantRef, contact_ids: Iterable[str], since: datetime
) -> set[str]:
    """Of these contacts, those sent a marketing message since ``since`` (one query)."""
    ids = list(set(contact_ids))
    if not ids:
        return set()
    rows = await session.scalars(
        marketing_messages(tenant, since).where(Message.contact_id.in_(ids)).distinct()
    )
    return set(rows)


def frequency_capped(hours: int) -> APIError:
    return PolicyError(
        FREQUENCY_CAPPED_CODE,
        f"This recipient got a marketing message from this workspace within the last {hours} hours (the "
        "workspace's marketing frequency cap).",
        param="to",
    )


def tenant_of(campaign: Campaign) -> TenantRef:
    return TenantRef(campaign.workspace_id, Mode(campaign.mode))


# -- running ------------------------------------------------------------------------------

MAKE_CHUNK = 100
"""Messages made per run of the campaign task (one short transaction: dispatch and
urgent sends take turns with it on SQLite)."""
AHEAD_SECONDS = 5.0
"""Messages are made this many seconds of throughput ahead of dispatch, no more: a pause
or a cancel then has little to take back, and a 100,000-recipient list is not 100,000
queued jobs."""
MIN_AHEAD = 200
RUN_INTERVAL = 0.5
"""Seconds between runs of a running campaign's task (make more, guard, complete)."""


async def _in_flight(session: AsyncSession, campaign: Campaign) -> int:
    return (
        await session.scalar(
            select(func.count()).where(
                Message.campaign_id == campaign.id,
                Message.status.in_((MessageStatus.QUEUED, MessageStatus.SENDING)),
            )
        )
        or 0
    )


async def step(session: AsyncSession, campaign: Campaign, channel: Channel, now: datetime) -> float | None:
    """One run of a running campaign: make the next messages, complete it when nothing is
    left. Returns the seconds until the next run, or None when it completed."""
    in_flight = await _in_flight(session, campaign)
    ahead = max(MIN_AHEAD, int(channel.throughput_per_second * AHEAD_SECONDS))
    wait: float | None = None
    made = 0
    if in_flight < ahead:
        made, wait = await make_messages(session, campaign, channel, now, min(MAKE_CHUNK, ahead - in_flight))
        in_flight += made
    if wait is not None:
        return max(wait, RUN_INTERVAL)
    if made == MAKE_CHUNK:
        return 0.0  # a full chunk: more are wanted at once
    pending = await session.scalar(
        select(func.count()).where(
            CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.status == RecipientStatus.PENDING
        )
    )
    if pending or in_flight:
        return RUN_INTERVAL
    campaign.status = CampaignStatus.COMPLETED
    campaign.completed_at = now
    campaign_counts, cost = await counts(session, campaign)
    _record(
        session,
        campaign,
        EventType.CAMPAIGN_COMPLETED,
        now,
        counts=campaign_counts.model_dump(),
        cost=cost.model_dump(),
    )
    return None


async def make_messages(
    session: AsyncSession, campaign: Campaign, channel: Channel, now: datetime, limit: int
) -> tuple[int, float | None]:
    """Make up to ``limit`` messages from pending recipients, every rule checked as for
    ``POST /v1/messages`` (``messages.service.decide``), in the bulk lane. Returns how
    many were made and, when the messaging tier is full and the campaign waits for it,
    the seconds until its next free slot."""
    pending = (
        await session.scalars(
            select(CampaignRecipient)
            .where(
                CampaignRecipient.campaign_id == campaign.id,
                CampaignRecipient.status == RecipientStatus.PENDING,
            )
            .order_by(CampaignRecipient.row)
            .limit(limit)
        )
    ).all()
    if not pending:
        return 0, None
    tenant = tenant_of(campaign)
    contacts = await _contacts(session, tenant, now, [r.to for r in pending])
    cap = 0
    if campaign.category == TemplateCategory.MARKETING:
        workspace = await session.get(Workspace, campaign.workspace_id)
        assert workspace is not None
        cap = frequency_cap_hours(workspace, campaign.mode)
    capped = (
        await recently_marketed(
            session, tenant, (c.id for c in contacts.values()), now - timedelta(hours=cap)
        )
        if cap
        else set()
    )
    text = None if campaign.template is not None else shape_of(campaign, channel)
    facts = BatchFacts(session)
    await facts.prefetch((contact.id, channel.id) for contact in contacts.values())
    started = await facts.others_started(tenant, "", now)
    limit_of_tier = tier_limit(channel.messaging_tier) if channel.messaging_tier else None
    room = None if limit_of_tier is None else limit_of_tier - started
    made: list[tuple[CampaignRecipient, Message]] = []
    wait: float | None = None
    for recipient in pending:
        contact = contacts[recipient.to]
        try:
            if contact.id in capped:
                raise frequency_capped(cap)
            draft = _draft(campaign, text, recipient.parameters or {})
            decision = await messages.decide(facts, tenant, channel, contact, draft, now)
            # A customer the tier does not count yet takes one of its remaining slots.
            if (
                decision.business_initiated
                and room is not None
                and await facts.others_started(tenant, contact.id, now) == started
            ):
                if room <= 0:
                    raise messages.limit_reached(channel, limit_of_tier or 0, started)
                room -= 1
        except APIError as refusal:
            if refusal.code == LIMIT_CODE and campaign.on_limit == OnLimit.WAIT:
                wait = await _until_tier_frees(session, tenant, now)
                break
            recipient.status = RecipientStatus.SKIPPED
            recipient.reason = refusal.code
            recipient.detail = refusal.message
            continue
        message = Message(
            id=new_id("msg"),
            workspace_id=campaign.workspace_id,
            mode=campaign.mode,
            channel_id=channel.id,
            contact_id=contact.id,
            direction=Direction.OUTBOUND,
            sender=channel.address,
            recipient=recipient.to,
            priority=Priority.BULK,
            reference=recipient.reference,
            campaign_id=campaign.id,
            status=MessageStatus.QUEUED,
            attempts=0,
            created_at=now,
        )
        messages.apply_decision(message, decision)
        made.append((recipient, message))
    if made:
        conversations = await _conversations(session, tenant, now, channel, [m.contact_id for _, m in made])
        for recipient, message in made:
            message.conversation_id = conversations[message.contact_id]
            session.add(message)
            recipient.status = RecipientStatus.QUEUED
            recipient.message_id = message.id
        await session.flush()
        for _, message in made:
            session.add(MessageStatusChange(message_id=message.id, status=MessageStatus.QUEUED, at=now))
            messages.record_status_event(session, message, now)
            _enqueue_dispatch(session, campaign, message.id)
    return len(made), wait


LIMIT_CODE = "messaging_limit_reached"


def _draft(campaign: Campaign, text: TextShape | None, parameters: dict[str, Any]) -> messages.Draft:
    """What the campaign sends this recipient: its template with their parameters, or its
    text or email with their values filled in."""
    if text is None:
        return messages.Draft("template", None, {**(campaign.template or {}), "parameters": parameters}, None)
    return messages.Draft(text.kind, text.render(parameters), None, None)


async def _until_tier_frees(session: AsyncSession, tenant: TenantRef, now: datetime) -> float:
    """Seconds until the oldest conversation counted by the tier leaves its rolling 24 h."""
    oldest: datetime | None = await session.scalar(
        select(func.min(business_initiated(tenant, now).c.created_at))
    )
    if oldest is None:
        return RUN_INTERVAL
    return max((oldest + MESSAGING_LIMIT_PERIOD - now).total_seconds(), RUN_INTERVAL)


async def _contacts(
    session: AsyncSession, tenant: TenantRef, now: datetime, addresses: Sequence[str]
) -> dict[str, Contact]:
    """The contacts of these addresses, created in one statement where absent."""
    await insert_all_absent(
        session,
        Contact,
        [
            {
                "id": new_id("ct"),
                "workspace_id": tenant.workspace_id,
                "mode": tenant.mode,
                "address": a,
                "created_at": now,
            }
            for a in addresses
        ],
    )
    found = await session.scalars(
        select(Contact).where(
            Contact.workspace_id == tenant.workspace_id,
            Contact.mode == tenant.mode,
            Contact.address.in_(addresses),
        )
    )
    return {contact.address: contact for contact in found}


async def _conversations(
    session: AsyncSession, tenant: TenantRef, now: datetime, channel: Channel, contact_ids: Sequence[str]
) -> dict[str, str]:
    """The conversation id of each contact on the channel, created in one statement where
    absent, with its last message time moved to now."""
    await insert_all_absent(
        session,
        Conversation,
        [
            {
                "id": new_id("cv"),
                "workspace_id": tenant.workspace_id,
                "mode": tenant.mode,
                "channel_id": channel.id,
                "contact_id": contact_id,
                "created_at": now,
            }
            for contact_id in contact_ids
        ],
    )
    selected = Conversation.channel_id == channel.id, Conversation.contact_id.in_(contact_ids)
    await session.execute(
        update(Conversation)
        .where(*selected)
        .values(last_message_at=now)
        .execution_options(synchronize_session=False)
    )
    rows = await session.execute(select(Conversation.contact_id, Conversation.id).where(*selected))
    return {row[0]: row[1] for row in rows}
