import logging

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.channels.models import Channel, ChannelType
from omniroute.channels.schemas import ChannelOut
from omniroute.contacts import service as contacts
from omniroute.contacts.models import Contact
from omniroute.conversations import service as conversations
from omniroute.conversations import tasks as window_timers
from omniroute.core.errors import InvalidRequestError
from omniroute.core.ids import new_id
from omniroute.core.phone import region_of, to_e164
from omniroute.core.tenancy import Mode, TenantRef
from omniroute.events import service as events
from omniroute.events.types import EventType
from omniroute.messages import fallback
from omniroute.messages import service as messages
from omniroute.messages.models import Direction, Message, MessageKind, MessageStatus, MessageStatusChange
from omniroute.policy import pricing
from omniroute.policy.channels import semantics_of
from omniroute.providers.events import (
    ChannelQualityUpdate,
    InboundMessage,
    ProviderEvent,
    StatusUpdate,
    TemplateCategoryUpdate,
    TemplateQualityUpdate,
    TemplateReview,
)
from omniroute.templates import service as templates

log = logging.getLogger(__name__)


async def apply_event(session: AsyncSession, channel: Channel, event: ProviderEvent) -> None:
    match event:
        case StatusUpdate():
            await apply_status(session, channel, event)
        case InboundMessage():
            await record_inbound(session, channel, event)
        case TemplateReview():
            await templates.apply_review(session, channel, event)
        case ChannelQualityUpdate():
            apply_channel_quality(session, channel, event)
        case TemplateCategoryUpdate():
            await templates.apply_category_update(session, channel, event)
        case TemplateQualityUpdate():
            await templates.apply_quality_update(session, channel, event)
        case _:
            log.info("provider event %s on %s changes no state: %s", event.type, channel.id, event)


def apply_channel_quality(session: AsyncSession, channel: Channel, update: ChannelQualityUpdate) -> None:
    """The number's quality rating, messaging tier or throughput changed; what the update
    leaves out stays."""
    if update.quality_rating is not None:
        channel.quality_rating = update.quality_rating
    if update.messaging_tier is not None:
        channel.messaging_tier = update.messaging_tier
    if update.throughput_per_second is not None:
        channel.throughput_per_second = update.throughput_per_second
    events.record(
        session,
        TenantRef(channel.workspace_id, Mode(channel.mode)),
        EventType.CHANNEL_QUALITY_UPDATED,
        {"event": update.event, "channel": ChannelOut.of(channel).model_dump(mode="json")},
        at=update.timestamp,
        channel_id=channel.id,
    )


async def apply_status(session: AsyncSession, channel: Channel, update: StatusUpdate) -> Message | None:
    """Statuses come late, twice and out of order; ``messages.transition`` keeps them monotonic."""
    match = Message.provider_message_id == update.provider_message_id
    if update.client_reference:
        match = or_(match, Message.id == update.client_reference)
    message = await session.scalar(
        select(Message).where(Message.channel_id == channel.id, match).with_for_update()
    )
    if message is None:
        log.warning(
            "status %s for unknown message %s on %s", update.status, update.provider_message_id, channel.id
        )
        return None
    if message.provider_message_id is None:
        # A send whose response was lost: the provider's own status settles it.
        message.provider_message_id = update.provider_message_id
        message.outcome_unknown_since = None
        message.provider_call_started_at = None
    if update.pricing and (message.pricing is None or update.status == "delivered"):
        message.pricing = pricing.with_cost(
            update.pricing, market=region_of(message.recipient), at=update.timestamp
        )
    status = MessageStatus(update.status)
    if status is MessageStatus.FAILED:
        error = update.error
        failed = messages.fail(
            session,
            message,
            update.timestamp,
            code=error.code if error else "provider_failed",
            text=error.message if error else "The provider reported the message as failed.",
            provider_code=error.provider_code if error else None,
        )
        if failed and error is not None and fallback.applies(message, error.provider_code):
            await fallback.send_instead(session, message, update.timestamp)
    else:
        last = MessageStatus(semantics_of(channel.type).last_status)
        messages.transition(session, message, status, update.timestamp, last=last)
    return message


async def record_inbound(session: AsyncSession, channel: Channel, event: InboundMessage) -> Message | None:
    """A customer wrote: open or refresh the window from their message's own timestamp,
    store the message, and honour opt-out keywords. A duplicate delivery, or a WhatsApp or
    SMS message whose sender is not a phone number, changes nothing (None)."""
    duplicate = await session.scalar(
        select(Message.id).where(
            Message.channel_id == channel.id, Message.provider_message_id == event.provider_message_id
        )
    )
    if duplicate is not None:
        return None
    mode = Mode(channel.mode)
    try:
        sender = (
            to_e164(event.sender, param="from")
            if channel.type in (ChannelType.WHATSAPP, ChannelType.SMS)
            else event.sender
        )
    except InvalidRequestError:
        # Nobody could answer a conversation with this sender: the stored webhook keeps it.
        log.warning(
            "inbound message %s from unparseable sender %r on %s: skipped",
            event.provider_message_id,
            event.sender,
            channel.id,
        )
        return None
    try:
        async with session.begin_nested():
            message, contact = await _store_inbound(session, channel, event, mode, sender)
    except IntegrityError:
        # The same message in two webhook bodies applied at once: the other one stored it
        # (the unique provider message id); this one changes nothing.
        log.info(
            "inbound message %s on %s stored concurrently: duplicate", event.provider_message_id, channel.id
        )
        return None
    session.add(MessageStatusChange(message_id=message.id, status=MessageStatus.RECEIVED, at=event.timestamp))
    messages.record_status_event(session, message, event.timestamp)
    body = str(event.content.get("body", "")) if event.content_type == "text" else ""
    word = contacts.keyword(body)
    if word in contacts.OPT_OUT_KEYWORDS:
        await contacts.opt_out(session, contact.id, channel.id, at=event.timestamp, source="keyword")
    elif word in contacts.OPT_IN_KEYWORDS:
        await contacts.opt_in(session, contact.id, channel.id)
    return message


async def _store_inbound(
    session: AsyncSession, channel: Channel, event: InboundMessage, mode: Mode, sender: str
) -> tuple[Message, Contact]:
    """The contact, the conversation (window or last message time) and the message row."""
    contact = await contacts.get_or_create(session, channel.workspace_id, mode, sender)
    if event.profile_name and not contact.name:
        contact.name = event.profile_name
    conversation = await conversations.get_or_create(
        session, channel.workspace_id, mode, channel.id, contact.id
    )
    if semantics_of(channel.type).has_window:
        window_was_open = conversations.window_of(conversation, event.timestamp).is_open
        moved = conversations.record_customer_message(
            conversation, event.timestamp, from_entry_point=event.referral is not None
        )
        if moved:
            await window_timers.window_moved(session, conversation, contact, opened=not window_was_open)
    else:
        conversations.record_message_time(conversation, event.timestamp)
    message = Message(
        id=new_id("msg"),
        workspace_id=channel.workspace_id,
        mode=mode,
        channel_id=channel.id,
        contact_id=contact.id,
        conversation_id=conversation.id,
        direction=Direction.INBOUND,
        kind=MessageKind.SESSION,
        content_type=event.content_type,
        content=event.content if event.referral is None else {**event.content, "referral": event.referral},
        recipient=channel.address,
        sender=sender,
        status=MessageStatus.RECEIVED,
        provider_message_id=event.provider_message_id,
        attempts=0,
        created_at=event.timestamp,
    )
    session.add(message)
    await session.flush()
    return message, contact
