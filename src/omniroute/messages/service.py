"""Accepting a message: every policy check happens here, before anything is queued,
and again at dispatch (``decide`` is shared by both)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.channels import service as channels
from omniroute.channels.models import Channel, ChannelType
from omniroute.contacts import service as contacts
from omniroute.contacts.models import Contact
from omniroute.conversations import service as conversations
from omniroute.core import email_address
from omniroute.core.errors import APIError, InvalidRequestError, PolicyError
from omniroute.core.ids import new_id
from omniroute.core.phone import region_of, to_e164
from omniroute.core.tenancy import Tenant
from omniroute.core.time import rfc3339
from omniroute.events import service as events
from omniroute.events.types import EventType
from omniroute.jobs import queue
from omniroute.messages import email as email_content
from omniroute.messages import hooks
from omniroute.messages.facts import Facts
from omniroute.messages.models import (
    Direction,
    FallbackUsed,
    Message,
    MessageKind,
    MessageStatus,
    MessageStatusChange,
    Priority,
)
from omniroute.messages.schemas import WEB_ONLY_KINDS, MessageOut, SendMessage, StatusChangeOut
from omniroute.messages.status import should_apply
from omniroute.policy.limits import tier_limit
from omniroute.policy.pricing import price_sms
from omniroute.policy.templates import HYDRATED_BODY_MAX_LENGTH, TemplateCategory
from omniroute.sms.encoding import shape
from omniroute.templates import service as templates
from omniroute.templates.variables import build_send_components, hydrate

DISPATCH_JOB = "messages.dispatch"
RESOLVE_UNKNOWN_JOB = "messages.resolve_unknown"

LANES = {
    Priority.HIGH: queue.PRIORITY_HIGH,
    Priority.NORMAL: queue.PRIORITY_NORMAL,
    Priority.BULK: queue.PRIORITY_BULK,
}
"""Priority lanes: an OTP or a reply is claimed before any bulk campaign message."""


@dataclass(frozen=True)
class Draft:
    """What the caller asked to send, as stored on the message row."""

    content_type: str
    content: dict[str, Any] | None
    template: dict[str, Any] | None
    fallback: dict[str, Any] | None


@dataclass(frozen=True)
class Decision:
    """What will actually be sent, after the window, opt-out, template and tier checks."""

    channel: Channel
    kind: MessageKind
    content_type: str
    content: dict[str, Any] | None
    template: dict[str, Any] | None
    template_components: list[dict[str, Any]] | None
    fallback_used: FallbackUsed | None
    business_initiated: bool
    recipient: Contact | None = None
    """Set when a fallback channel reaches the customer at another address (an email)."""


def scoped(tenant: Tenant) -> Select[Message]:
    return select(Message).where(Message.workspace_id == tenant.workspace_id, Message.mode == tenant.mode)


def recipient_address(channel: Channel, raw: str, *, param: str = "to") -> str:
    if channel.type in (ChannelType.WHATSAPP, ChannelType.SMS):
        return to_e164(raw, param=param)
    if channel.type == ChannelType.EMAIL:
        return email_address.normalize(raw, param=param)
    return raw.strip()


WEB_KINDS = frozenset({"text", "image", "interactive", "push"})
"""What the web chat widget shows: text, an image, buttons, and a notification alone."""


def require_content_fits(channel: Channel, content_type: str, *, param: str) -> None:
    """Each channel type takes the content it can carry (a 422 naming the field otherwise):
    an email channel ``email`` content and only it, a web chat channel its own kinds
    (``push`` among them), any other channel neither ``email`` nor ``push``."""
    if channel.type == ChannelType.EMAIL:
        fits, takes = content_type == "email", "'email' content"
    elif channel.type == ChannelType.WEB:
        fits, takes = content_type in WEB_KINDS, ", ".join(sorted(WEB_KINDS))
    else:
        fits, takes = content_type not in ("email", *WEB_ONLY_KINDS), "neither 'email' nor 'push' content"
    if not fits:
        raise InvalidRequestError(
            "channel_type_unsupported",
            f"Channel {channel.id} is a {channel.type} channel: it takes {takes}.",
            param=param,
        )


async def accept(session: AsyncSession, tenant: Tenant, now: datetime, body: SendMessage) -> Message:
    """Check a send request against every rule and store it as a queued message with its
    dispatch job, in the caller's transaction. Raises the contract's error otherwise."""
    channel = await channels.get_recent(session, tenant, body.channel_id, param="channel_id")
    channels.require_usable(channel)
    require_content_fits(channel, body.content_type, param=body.content_type)
    recipient = recipient_address(channel, body.to)
    facts = Facts(session)
    contact = await facts.recipient(tenant, recipient, channel.id)
    draft = Draft(
        content_type=body.content_type,
        content=body.content(),
        template=body.template.model_dump() if body.template else None,
        fallback=body.fallback.model_dump(exclude_none=True) if body.fallback else None,
    )
    decision = await decide(facts, tenant, channel, contact, draft, now)
    contact = decision.recipient or contact
    conversation = await facts.conversation(decision.channel.id, contact.id)
    if conversation is None:
        conversation = await conversations.create(
            session, tenant.workspace_id, tenant.mode, decision.channel.id, contact.id, at=now
        )
    await _require_quoted_messages(session, conversation.id, decision)
    conversation.last_message_at = now
    message = Message(
        id=new_id("msg"),
        workspace_id=tenant.workspace_id,
        mode=tenant.mode,
        channel_id=decision.channel.id,
        contact_id=contact.id,
        conversation_id=conversation.id,
        direction=Direction.OUTBOUND,
        sender=decision.channel.address,
        recipient=recipient,
        fallback=draft.fallback,
        priority=body.priority,
        extra_metadata=body.metadata,
        reference=body.reference,
        status=MessageStatus.QUEUED,
        attempts=0,
        created_at=now,
    )
    apply_decision(message, decision)
    session.add(message)
    await session.flush()
    session.add(MessageStatusChange(message_id=message.id, status=MessageStatus.QUEUED, at=now))
    record_status_event(session, message, now)
    queue.enqueue(
        session,
        DISPATCH_JOB,
        {"message_id": message.id},
        priority=LANES[Priority(message.priority)],
        workspace_id=tenant.workspace_id,
        mode=tenant.mode,
    )
    return message


def _quoted_messages(decision: Decision) -> dict[str, str]:
    """The messages a send quotes, by the field that names them: a reply's ``reply_to``, a
    reaction's ``reaction.message_id``."""
    content = decision.content or {}
    if decision.content_type == "email":
        return {}  # its reply_to is the Reply-To header, not a quoted message
    quoted = {"reply_to": content.get("reply_to")}
    if decision.content_type == "reaction":
        quoted["reaction.message_id"] = content.get("message_id")
    return {field: reference for field, reference in quoted.items() if isinstance(reference, str)}


async def _require_quoted_messages(session: AsyncSession, conversation_id: str, decision: Decision) -> None:
    """Meta fails a reply or reaction to a message the chat does not hold: refuse it here,
    naming the field. A message is quoted by our id or the provider's."""
    for field, reference in _quoted_messages(decision).items():
        found = await session.scalar(
            select(Message.id).where(
                Message.channel_id == decision.channel.id,
                (Message.id == reference) | (Message.provider_message_id == reference),
                Message.conversation_id == conversation_id,
            )
        )
        if found is None:
            raise InvalidRequestError(
                "referenced_message_not_found",
                f"{field}: no message '{reference}' in this conversation. Quote a message of this "
                "conversation by its id or its provider_message_id.",
                param=field,
            )


def apply_decision(message: Message, decision: Decision) -> None:
    message.channel_id = decision.channel.id
    message.sender = decision.channel.address
    message.kind = decision.kind
    message.content_type = decision.content_type
    message.content = decision.content
    message.template = decision.template
    if decision.fallback_used is not None:
        message.fallback_used = decision.fallback_used.value
    message.business_initiated = decision.business_initiated
    if decision.recipient is not None:
        message.contact_id = decision.recipient.id
        message.recipient = decision.recipient.address
    describe_sms(message, decision.channel.type)


def describe_sms(message: Message, channel_type: str) -> None:
    """An SMS text's encoding and segments, and its price per segment from the rate
    card; nothing for other channel types."""
    if channel_type != ChannelType.SMS or message.content_type != "text":
        message.sms = None
        return
    sms = shape(str((message.content or {}).get("body", "")))
    message.sms = sms.as_dict()
    message.pricing = price_sms(
        segments=sms.segments, market=region_of(message.recipient), at=message.created_at
    )


async def decide(
    facts: Facts,
    tenant: Tenant,
    channel: Channel,
    contact: Contact,
    draft: Draft,
    now: datetime,
) -> Decision:
    """What to send for this draft now, or the contract's error saying why nothing may be.
    An opted-out contact gets no free-form or marketing message; utility and
    authentication templates still go (the opt-out is from marketing)."""
    if draft.template is not None:
        return await _template_decision(facts, tenant, channel, contact, draft.template, now, "template")
    await _refuse_if_opted_out(facts, contact, channel)
    session_decision = Decision(
        channel, MessageKind.SESSION, draft.content_type, draft.content, None, None, None, False
    )
    if channel.type != ChannelType.WHATSAPP:
        return session_decision
    window = conversations.window_of(await facts.conversation(channel.id, contact.id), now)
    if window.is_open:
        return session_decision

    fallback = draft.fallback or {}
    if "template" in fallback:
        try:
            decision = await _template_decision(
                facts, tenant, channel, contact, fallback["template"], now, "fallback.template"
            )
        except APIError:
            if "channel_id" not in fallback:
                raise
        else:
            return _with_fallback(decision, FallbackUsed.TEMPLATE)
    if "channel_id" in fallback:
        other, other_contact = await fallback_target(facts, tenant, contact, fallback)
        content_type = "email" if "email" in fallback else "text"
        return Decision(
            other,
            MessageKind.SESSION,
            content_type,
            fallback[content_type],
            None,
            None,
            FallbackUsed.CHANNEL,
            False,
            other_contact,
        )
    raise PolicyError(
        "window_closed",
        "This customer has not written to you in the last 24 hours, so WhatsApp allows only an "
        "approved template. Send a template instead, or add a 'fallback' with a template or "
        "another channel.",
        param=draft.content_type,
        details={
            "last_inbound_at": rfc3339(window.last_inbound_at),
            "expired_at": rfc3339(window.expires_at),
        },
    )


async def fallback_target(
    facts: Facts, tenant: Tenant, contact: Contact, fallback: dict[str, Any]
) -> tuple[Channel, Contact]:
    """The fallback channel and the contact there, once it may be used: the channel exists
    and is usable, takes the fallback's content, and the recipient has not opted out of it.
    The recipient is ``fallback.to``, else the original recipient (an SMS to the same
    number); an email channel needs ``fallback.to``."""
    other = await channels.get(facts.session, tenant, fallback["channel_id"], param="fallback.channel_id")
    channels.require_usable(other)
    content_type = "email" if "email" in fallback else "text"
    require_content_fits(other, content_type, param=f"fallback.{content_type}")
    if other.type == ChannelType.WHATSAPP:
        raise InvalidRequestError(
            "channel_type_unsupported",
            "A fallback channel is another kind of channel (SMS, email, web), not WhatsApp.",
            param="fallback.channel_id",
        )
    if "to" not in fallback and other.type == ChannelType.EMAIL:
        raise InvalidRequestError(
            "parameter_missing",
            "An email fallback needs 'fallback.to', an email address.",
            param="fallback.to",
        )
    recipient = recipient_address(other, fallback.get("to", contact.address), param="fallback.to")
    other_contact = await contacts.get_or_create(facts.session, tenant.workspace_id, tenant.mode, recipient)
    await _refuse_if_opted_out(facts, other_contact, other)
    return other, other_contact


def _with_fallback(decision: Decision, used: FallbackUsed) -> Decision:
    return Decision(
        decision.channel,
        decision.kind,
        decision.content_type,
        decision.content,
        decision.template,
        decision.template_components,
        used,
        decision.business_initiated,
    )


async def _template_decision(
    facts: Facts,
    tenant: Tenant,
    channel: Channel,
    contact: Contact,
    reference: dict[str, Any],
    now: datetime,
    param: str,
) -> Decision:
    if channel.type != ChannelType.WHATSAPP:
        raise InvalidRequestError(
            "channel_type_unsupported", "Templates can be sent only on WhatsApp channels.", param=param
        )
    name, language = reference["name"], reference["language"]
    template = templates.require_sendable(
        await facts.template(channel.id, name, language), channel, name, language, f"{param}.name"
    )
    if template.category == TemplateCategory.MARKETING:
        await _refuse_if_opted_out(facts, contact, channel)
    try:
        components, body_values = build_send_components(template.variables, reference.get("parameters") or {})
    except InvalidRequestError as error:
        error.param = f"{param}.parameters" + (error.param or "").removeprefix("template.parameters")
        raise
    body = next((c for c in template.components if str(c.get("type", "")).upper() == "BODY"), {})
    hydrated = hydrate(str(body.get("text", "")), body_values)
    if len(hydrated) > HYDRATED_BODY_MAX_LENGTH:
        raise InvalidRequestError(
            "template_text_too_long",
            f"With these parameters the body is {len(hydrated)} characters; WhatsApp allows "
            f"{HYDRATED_BODY_MAX_LENGTH}. Shorten the parameter values.",
            param=f"{param}.parameters.body",
            details={"length": len(hydrated), "max": HYDRATED_BODY_MAX_LENGTH},
        )
    conversation = await facts.conversation(channel.id, contact.id)
    business_initiated = not conversations.window_of(conversation, now).is_open
    if business_initiated:
        await _refuse_beyond_messaging_limit(facts, tenant, channel, contact, now)
    stored = {
        "id": template.id,
        "name": template.name,
        "language": template.language,
        "category": template.category,
        "parameters": reference.get("parameters") or {},
    }
    return Decision(
        channel, MessageKind.TEMPLATE, "template", None, stored, components, None, business_initiated
    )


async def _refuse_if_opted_out(facts: Facts, contact: Contact, channel: Channel) -> None:
    opt_out = await facts.opt_out(contact.id, channel.id)
    if opt_out is not None:
        raise PolicyError(
            "recipient_opted_out",
            f"{contact.address} opted out of channel {channel.id} ({opt_out.source}) and must not be "
            "messaged there until they opt back in.",
            param="to",
            details={"opted_out_at": rfc3339(opt_out.opted_out_at), "source": opt_out.source},
        )


async def _refuse_beyond_messaging_limit(
    facts: Facts, tenant: Tenant, channel: Channel, contact: Contact, now: datetime
) -> None:
    """The tier caps unique customers a business starts conversations with in a rolling
    24 h, shared by all the workspace's WhatsApp numbers (one business portfolio)."""
    limit = tier_limit(channel.messaging_tier) if channel.messaging_tier else None
    if limit is None:
        return
    started = await facts.others_started(tenant, contact.id, now)
    if started >= limit:
        raise limit_reached(channel, limit, started)


def limit_reached(channel: Channel, limit: int, started: int) -> PolicyError:
    return PolicyError(
        "messaging_limit_reached",
        f"Your messaging tier ({channel.messaging_tier}) allows starting conversations with {limit} "
        "customers in 24 hours and that many were started. Wait, or reply only to customers who wrote.",
        param="to",
        details={"tier": channel.messaging_tier, "limit": limit, "started": started},
    )


def transition(
    session: AsyncSession,
    message: Message,
    status: MessageStatus,
    at: datetime,
    detail: str | None = None,
    *,
    last: MessageStatus = MessageStatus.READ,
) -> bool:
    """Move a message to ``status`` if the ordering rules allow it (``last``: the furthest
    status its channel type reports); record the change."""
    if message.status == status or not should_apply(MessageStatus(message.status), status, last=last):
        return False
    message.status = status
    session.add(MessageStatusChange(message_id=message.id, status=status, at=at, detail=detail))
    if status is not MessageStatus.FAILED:  # ``fail`` records it once the error is set
        record_status_event(session, message, at)
        hooks.status_changed(session, message, at)
    return True


def fail(
    session: AsyncSession,
    message: Message,
    at: datetime,
    *,
    code: str,
    text: str,
    provider_code: int | str | None = None,
) -> bool:
    if not transition(session, message, MessageStatus.FAILED, at, detail=code):
        return False
    message.error = {"code": code, "message": text, "provider_code": provider_code}
    message.provider_call_started_at = None
    message.next_attempt_at = None
    record_status_event(session, message, at)
    hooks.status_changed(session, message, at)
    return True


STATUS_EVENTS = {
    MessageStatus.QUEUED: EventType.MESSAGE_QUEUED,
    MessageStatus.SENT: EventType.MESSAGE_SENT,
    MessageStatus.DELIVERED: EventType.MESSAGE_DELIVERED,
    MessageStatus.READ: EventType.MESSAGE_READ,
    MessageStatus.FAILED: EventType.MESSAGE_FAILED,
    MessageStatus.RECEIVED: EventType.MESSAGE_RECEIVED,
}
"""The statuses that are events (``sending`` is internal and has none)."""


def record_status_event(session: AsyncSession, message: Message, at: datetime) -> None:
    """The message's current status as an event, its data the message as the API shows it
    (without ``status_history``, which would cost a query on every change)."""
    event_type = STATUS_EVENTS.get(MessageStatus(message.status))
    if event_type is None:
        return
    events.record(
        session,
        message,
        event_type,
        to_out(message).model_dump(mode="json", by_alias=True),
        at=at,
        message_id=message.id,
        campaign_id=message.campaign_id,
        conversation_id=message.conversation_id,
        channel_id=message.channel_id,
    )


async def status_history(session: AsyncSession, message_id: str) -> list[StatusChangeOut]:
    rows = await session.scalars(
        select(MessageStatusChange)
        .where(MessageStatusChange.message_id == message_id)
        .order_by(MessageStatusChange.id)
    )
    return [StatusChangeOut(status=r.status, at=r.at, detail=r.detail) for r in rows]


def to_out(message: Message, history: list[StatusChangeOut] | None = None) -> MessageOut:
    content: dict[str, Any] = {}
    if message.content_type == "template":
        content["template"] = message.template
    elif message.content_type == "contacts":
        content["contacts"] = (message.content or {}).get("contacts")
    elif message.content_type == "email":
        content["email"] = email_content.as_shown(message.content or {})
    else:
        content[message.content_type] = message.content
    return MessageOut(
        id=message.id,
        channel_id=message.channel_id,
        conversation_id=message.conversation_id,
        contact_id=message.contact_id,
        to=message.recipient,
        from_=message.sender,
        direction=message.direction,
        kind=message.kind,
        type=message.content_type,
        status=message.status,
        fallback_used=message.fallback_used,
        fallback_for=message.fallback_for,
        fallback_message_id=message.fallback_message_id,
        error=message.error,
        pricing=message.pricing,
        sms=message.sms,
        priority=message.priority,
        metadata=message.extra_metadata,
        reference=message.reference,
        campaign_id=message.campaign_id,
        provider_message_id=message.provider_message_id,
        attempts=message.attempts,
        status_history=history,
        created_at=message.created_at,
        **content,
    )
