"""What the dashboard's pages show, read through the domain services and their models,
always scoped to the viewer's workspace and mode."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.campaigns import usage
from omniroute.campaigns.schemas import UsageRow
from omniroute.channels import service as channels
from omniroute.channels.models import Channel, ChannelType
from omniroute.contacts.models import Contact
from omniroute.conversations import service as conversations
from omniroute.conversations.models import Conversation
from omniroute.core.metrics import LaneDepth
from omniroute.messages import backlog
from omniroute.messages.models import Direction, Message, MessageStatus, MessageStatusChange
from omniroute.messages.service import scoped as messages_of
from omniroute.policy import errors as meta_errors
from omniroute.policy.templates import TemplateStatus
from omniroute.policy.window import Window
from omniroute.templates import service as templates
from omniroute.templates.models import Template
from omniroute.workspaces.auth import AuthContext

CLOSING_SOON = timedelta(hours=1)
THREAD_LENGTH = 100
LIST_LENGTH = 50


@dataclass
class Overview:
    by_status: dict[str, int]
    by_channel: dict[str, Counter[str]]
    failures: list[tuple[str, int]]
    cost_this_month: str
    open_windows: int
    closing_within_hour: int
    lanes: list[LaneDepth]
    channel_names: dict[str, str] = field(default_factory=dict)


def day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


async def channel_names(session: AsyncSession, auth: AuthContext) -> dict[str, str]:
    return {c.id: c.name for c in await session.scalars(channels.scoped(auth).order_by(Channel.id))}


def total_cost(rows: list[UsageRow]) -> str:
    amount = sum((Decimal(row.cost.amount) for row in rows), Decimal("0"))
    currency = rows[0].cost.currency if rows else "USD"
    return f"{amount:.4f} {currency}"


async def overview(session: AsyncSession, auth: AuthContext) -> Overview:
    now = auth.now()
    today = day_start(now)
    counts = await session.execute(
        select(Message.channel_id, Message.status, func.count())
        .where(
            Message.workspace_id == auth.workspace_id, Message.mode == auth.mode, Message.created_at >= today
        )
        .group_by(Message.channel_id, Message.status)
    )
    by_status: Counter[str] = Counter()
    by_channel: dict[str, Counter[str]] = defaultdict(Counter)
    for channel_id, status, count in counts.all():
        by_status[str(status)] += count
        by_channel[channel_id][str(status)] += count
    failures = await session.execute(  # a failure's status change carries its error code
        select(MessageStatusChange.detail, func.count())
        .join(Message, Message.id == MessageStatusChange.message_id)
        .where(
            Message.workspace_id == auth.workspace_id,
            Message.mode == auth.mode,
            Message.created_at >= today,
            MessageStatusChange.status == MessageStatus.FAILED,
        )
        .group_by(MessageStatusChange.detail)
        .order_by(func.count().desc())
    )
    month = today.replace(day=1)
    cost = await usage.usage(session, auth, month, now + timedelta(seconds=1), "channel")
    windows = select(func.count()).where(
        Conversation.workspace_id == auth.workspace_id,
        Conversation.mode == auth.mode,
        Conversation.window_expires_at > now,
    )
    open_windows = int(await session.scalar(windows) or 0)
    closing = int(
        await session.scalar(windows.where(Conversation.window_expires_at <= now + CLOSING_SOON)) or 0
    )
    return Overview(
        by_status=dict(by_status),
        by_channel=dict(by_channel),
        failures=[(str(code or "unknown"), int(count)) for code, count in failures.all()],
        cost_this_month=total_cost(cost.data),
        open_windows=open_windows,
        closing_within_hour=closing,
        lanes=await backlog.queued_by_lane(session, auth),
        channel_names=await channel_names(session, auth),
    )


@dataclass(frozen=True)
class ConversationView:
    conversation: Conversation
    contact: Contact
    channel: Channel
    window: Window | None
    now: datetime

    @property
    def seconds_left(self) -> float | None:
        if self.window is None or not self.window.is_open or self.window.expires_at is None:
            return None
        return (self.window.expires_at - self.now).total_seconds()

    @property
    def free_form_allowed(self) -> bool:
        """Anything may be sent in an open window, and always outside WhatsApp."""
        return self.window is None or self.window.is_open

    @property
    def reply_state(self) -> str:
        """What the reply box offers: text and templates, or templates only."""
        return "open" if self.free_form_allowed else "closed"


def _conversations(auth: AuthContext) -> Any:
    return (
        select(Conversation, Contact, Channel)
        .join(Contact, Contact.id == Conversation.contact_id)
        .join(Channel, Channel.id == Conversation.channel_id)
        .where(Conversation.workspace_id == auth.workspace_id, Conversation.mode == auth.mode)
    )


async def conversation_list(session: AsyncSession, auth: AuthContext) -> list[ConversationView]:
    now = auth.now()
    rows = await session.execute(
        _conversations(auth)
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        .limit(LIST_LENGTH)
    )
    return [
        ConversationView(c, contact, channel, conversations.window_on(channel.type, c, now), now)
        for c, contact, channel in rows.all()
    ]


async def conversation(
    session: AsyncSession, auth: AuthContext, conversation_id: str
) -> ConversationView | None:
    row = (await session.execute(_conversations(auth).where(Conversation.id == conversation_id))).first()
    if row is None:
        return None
    c, contact, channel = row
    now = auth.now()
    return ConversationView(c, contact, channel, conversations.window_on(channel.type, c, now), now)


async def thread(session: AsyncSession, auth: AuthContext, conversation_id: str) -> list[Message]:
    newest = await session.scalars(
        messages_of(auth)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.id.desc())
        .limit(THREAD_LENGTH)
    )
    return list(reversed(newest.all()))


async def approved_templates(
    session: AsyncSession, auth: AuthContext, channel_id: str | None = None
) -> list[Template]:
    statement = templates.scoped(auth).where(Template.status == TemplateStatus.APPROVED)
    if channel_id:
        statement = statement.where(Template.channel_id == channel_id)
    return list((await session.scalars(statement.order_by(Template.name, Template.language))).all())


async def whatsapp_channels(session: AsyncSession, auth: AuthContext) -> list[Channel]:
    return list(
        (
            await session.scalars(
                channels.scoped(auth).where(Channel.type == ChannelType.WHATSAPP).order_by(Channel.id)
            )
        ).all()
    )


def error_meaning(error: dict[str, Any] | None) -> str | None:
    """A failed message's error in plain language: Meta's meaning of its provider code
    (``policy/errors.py``), when it is one of Meta's."""
    if not error:
        return None
    code = error.get("provider_code")
    if isinstance(code, int) or (isinstance(code, str) and code.isdigit()):
        known = meta_errors.META_ERRORS.get(int(code))
        if known is not None:
            retry = {
                meta_errors.RetryClass.RETRY: "It was retried with back-off.",
                meta_errors.RetryClass.LATER: "Meta asks to wait a long time before trying again.",
                meta_errors.RetryClass.FINAL: "Retrying will not help.",
                meta_errors.RetryClass.AUTH: "The channel's credentials need attention.",
            }[known.retry]
            return f"{known.meaning.capitalize()} (Meta {known.code}). {retry}"
    return None


def inbound(message: Message) -> bool:
    return message.direction == Direction.INBOUND


def text_of(message: Message) -> str:
    """What a message says, in one line, for the thread and the lists."""
    content = message.content or {}
    if message.content_type == "text":
        return str(content.get("body", ""))
    if message.content_type == "template" and message.template:
        return f"Template {message.template.get('name')} ({message.template.get('language')})"
    if message.content_type == "email":
        return str(content.get("subject", "Email"))
    caption = content.get("caption")
    return f"[{message.content_type}] {caption}" if caption else f"[{message.content_type}]"
