from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.channels.models import Channel
from omniroute.conversations.models import Conversation
from omniroute.core.errors import InvalidRequestError
from omniroute.core.ids import new_id
from omniroute.core.tenancy import Mode
from omniroute.core.upsert import get_or_insert, insert_or_get
from omniroute.policy.channels import semantics_of
from omniroute.policy.window import (
    CUSTOMER_SERVICE_WINDOW,
    FREE_ENTRY_POINT_DURATION,
    Window,
    refreshed_last_inbound,
    window_at,
)


async def find(session: AsyncSession, channel_id: str, contact_id: str) -> Conversation | None:
    return await session.scalar(_lookup(channel_id, contact_id))


def _lookup(channel_id: str, contact_id: str) -> Select[Conversation]:
    return select(Conversation).where(
        Conversation.channel_id == channel_id, Conversation.contact_id == contact_id
    )


async def get_or_create(
    session: AsyncSession, workspace_id: str, mode: Mode, channel_id: str, contact_id: str
) -> Conversation:
    return await get_or_insert(
        session,
        _lookup(channel_id, contact_id),
        Conversation,
        _new(workspace_id, mode, channel_id, contact_id),
    )


async def create(
    session: AsyncSession, workspace_id: str, mode: Mode, channel_id: str, contact_id: str, *, at: datetime
) -> Conversation:
    """The conversation of a pair just found to have none, its last message at ``at``: created,
    or the one a concurrent request created first."""
    values = {**_new(workspace_id, mode, channel_id, contact_id), "last_message_at": at}
    conversation, _ = await insert_or_get(
        session, lambda: _lookup(channel_id, contact_id), Conversation, values
    )
    return conversation


def _new(workspace_id: str, mode: Mode, channel_id: str, contact_id: str) -> dict[str, object]:
    return {
        "id": new_id("cv"),
        "workspace_id": workspace_id,
        "mode": mode,
        "channel_id": channel_id,
        "contact_id": contact_id,
    }


def window_of(conversation: Conversation | None, now: datetime) -> Window:
    return window_at(conversation.last_inbound_at if conversation else None, now)


def window_on(channel_type: str, conversation: Conversation | None, now: datetime) -> Window | None:
    """The customer service window on a channel type that has one (WhatsApp); None elsewhere."""
    return window_of(conversation, now) if semantics_of(channel_type).has_window else None


def require_window(channel: Channel) -> None:
    """Refuse a window question about a channel type that has no window."""
    if not semantics_of(channel.type).has_window:
        raise InvalidRequestError(
            "window_not_applicable",
            f"A {channel.type} channel has no customer service window: that is a WhatsApp rule, and "
            "free-form messages on this channel are always allowed.",
            param="channel_id",
            details={"channel_type": channel.type},
            status_code=409,
        )


def record_message_time(conversation: Conversation, at: datetime) -> None:
    conversation.last_message_at = max(filter(None, (conversation.last_message_at, at)))


def record_customer_message(conversation: Conversation, sent_at: datetime, *, from_entry_point: bool) -> bool:
    """Open or refresh the window from the customer's own message time. Returns whether
    the window moved (a late or duplicate webhook moves nothing)."""
    latest = refreshed_last_inbound(conversation.last_inbound_at, sent_at)
    moved = latest != conversation.last_inbound_at
    conversation.last_inbound_at = latest
    conversation.window_expires_at = latest + CUSTOMER_SERVICE_WINDOW
    if from_entry_point:
        conversation.entry_point_free_until = sent_at + FREE_ENTRY_POINT_DURATION
    record_message_time(conversation, sent_at)
    return moved


def in_free_entry_point(conversation: Conversation | None, now: datetime) -> bool:
    return bool(
        conversation and conversation.entry_point_free_until and now < conversation.entry_point_free_until
    )
