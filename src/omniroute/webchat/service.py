"""The visitor side of web chat: sessions and tokens, the visitor's messages (through the
same ingest path as any provider's inbound message), what a visitor may read (its own
conversation only), markers, push subscriptions and stream tickets."""

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.channels.models import Channel, ChannelStatus, ChannelType
from omniroute.contacts import service as contacts
from omniroute.core.errors import AuthenticationError, InvalidRequestError, NotFoundError
from omniroute.core.ids import new_id
from omniroute.core.secrets import PREFIX, SecretKeyMissing, keyring
from omniroute.core.tenancy import Mode, TenantRef
from omniroute.core.time import utcnow
from omniroute.events import service as events
from omniroute.events.types import EventType
from omniroute.ingest.service import record_inbound
from omniroute.messages import service as messages
from omniroute.messages.models import Direction, Message, MessageStatus
from omniroute.providers.events import InboundMessage
from omniroute.providers.widget.config import (
    DEFAULTS,
    VAPID_PUBLIC_KEY,
    channel_id_of,
    public_key_of,
    with_generated_keys,
)
from omniroute.providers.widget.webpush import b64url_decode
from omniroute.webchat.models import PushSubscription, Visitor
from omniroute.webchat.schemas import (
    MarkerCreate,
    PushSubscriptionCreate,
    SessionCreate,
    VisitorMessageCreate,
    WidgetConfigOut,
)
from omniroute.workspaces.models import Workspace

TOKEN_PREFIX = "vt_"
TICKET_SECONDS = 600
VISIBLE_OUTBOUND = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ)
"""A business message is the visitor's to see once it was handed over (``sent``)."""
PAGE_LIMIT = 100


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def channel_for_key(session: AsyncSession, public_key: str, *, param: str = "key") -> Channel:
    """The active web channel a page names by its public key (404 otherwise). A channel
    made before web channels had VAPID keys gets its pair now."""
    channel_id = channel_id_of(public_key)
    channel = await session.get(Channel, channel_id) if channel_id else None
    if (
        channel is None
        or channel.type != ChannelType.WEB
        or channel.deleted_at is not None
        or channel.status != ChannelStatus.ACTIVE
    ):
        raise NotFoundError(
            "resource_not_found", f"No active web channel has the public key '{public_key}'.", param=param
        )
    if VAPID_PUBLIC_KEY not in (channel.config or {}):
        channel.config = with_generated_keys(dict(channel.config or {}))
        await session.flush()
    return channel


def widget_config(channel: Channel) -> WidgetConfigOut:
    config = channel.config or {}
    return WidgetConfigOut(
        public_key=public_key_of(channel.id),
        title=config.get("title") or DEFAULTS["title"],
        greeting=config.get("greeting", DEFAULTS["greeting"]),
        color=config.get("color") or DEFAULTS["color"],
        vapid_public_key=config.get(VAPID_PUBLIC_KEY),
    )


async def now_of(session: AsyncSession, channel: Channel) -> datetime:
    workspace = await session.get(Workspace, channel.workspace_id)
    assert workspace is not None
    return workspace.now(Mode(channel.mode))


async def open_session(
    session: AsyncSession, channel: Channel, body: SessionCreate, origin: str | None
) -> tuple[Visitor, str]:
    """A new visitor with its own contact (address: the visitor id) and token."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    visitor_id = new_id("vis")
    mode = Mode(channel.mode)
    contact = await contacts.get_or_create(session, channel.workspace_id, mode, visitor_id)
    details = body.visitor
    if details is not None and details.name:
        contact.name = details.name
    visitor = Visitor(
        id=visitor_id,
        workspace_id=channel.workspace_id,
        mode=mode,
        channel_id=channel.id,
        contact_id=contact.id,
        token_hash=hash_token(token),
        origin=origin or "",
        name=details.name if details else None,
        email=details.email if details else None,
    )
    session.add(visitor)
    await session.flush()
    return visitor, token


async def visitor_for_token(session: AsyncSession, token: str | None) -> tuple[Visitor, Channel]:
    """The visitor a token belongs to and its channel (401 for anything else)."""
    visitor = (
        await session.scalar(select(Visitor).where(Visitor.token_hash == hash_token(token)))
        if token
        else None
    )
    channel = await session.get(Channel, visitor.channel_id) if visitor else None
    if visitor is None or channel is None or channel.deleted_at is not None:
        raise AuthenticationError(
            "invalid_visitor_token",
            "Send the visitor token from POST /widget/v1/sessions as 'Authorization: Bearer vt_...'.",
        )
    return visitor, channel


def bearer(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def conversation_messages(visitor: Visitor) -> Select[Message]:
    """Everything this visitor may read: its own messages and the business's handed-over
    replies in its one conversation, never anything else."""
    return select(Message).where(
        Message.workspace_id == visitor.workspace_id,
        Message.mode == visitor.mode,
        Message.channel_id == visitor.channel_id,
        Message.contact_id == visitor.contact_id,
        or_(Message.direction == Direction.INBOUND, Message.status.in_(VISIBLE_OUTBOUND)),
    )


async def list_messages(
    session: AsyncSession, visitor: Visitor, after: str | None, limit: int
) -> tuple[list[Message], bool]:
    """Oldest first; ``after`` pages forward. Without it, the latest ``limit`` messages."""
    statement = conversation_messages(visitor)
    if after is not None:
        rows = list(
            await session.scalars(statement.where(Message.id > after).order_by(Message.id).limit(limit + 1))
        )
        return rows[:limit], len(rows) > limit
    rows = list(await session.scalars(statement.order_by(Message.id.desc()).limit(limit)))
    return rows[::-1], False


async def receive(
    session: AsyncSession, channel: Channel, visitor: Visitor, body: VisitorMessageCreate
) -> Message:
    """The visitor wrote: the same ingest as any provider's inbound message
    (``message.received``, the conversation opened or refreshed)."""
    message = await record_inbound(
        session,
        channel,
        InboundMessage(
            provider_message_id=f"web.in.{secrets.token_hex(12)}",
            sender=visitor.id,
            timestamp=await now_of(session, channel),
            content_type="text",
            content={"body": body.text},
            profile_name=visitor.name,
        ),
    )
    assert message is not None  # a fresh provider id is never a duplicate
    return message


async def apply_marker(
    session: AsyncSession, channel: Channel, visitor: Visitor, marker: MarkerCreate
) -> None:
    now = await now_of(session, channel)
    if marker.type == "typing":
        events.record(
            session,
            TenantRef(visitor.workspace_id, Mode(visitor.mode)),
            EventType.VISITOR_TYPING,
            {"visitor_id": visitor.id, "channel_id": channel.id, "contact_id": visitor.contact_id},
            at=now,
            channel_id=channel.id,
        )
        return
    if marker.message_id is None:
        raise InvalidRequestError(
            "parameter_missing", f"'message_id' is required for a {marker.type} marker.", param="message_id"
        )
    status = MessageStatus.READ if marker.type == "read" else MessageStatus.DELIVERED
    await mark(session, visitor, marker.message_id, status, now, detail="widget")


async def mark(
    session: AsyncSession,
    visitor: Visitor,
    up_to: str,
    status: MessageStatus,
    at: datetime,
    *,
    detail: str,
    only: list[str] | None = None,
) -> list[Message]:
    """Move the business's messages of this conversation up to ``up_to`` (or just
    ``only``) forward to ``status``: a widget showed or received them."""
    statement = (
        conversation_messages(visitor)
        .where(Message.direction == Direction.OUTBOUND, Message.id <= up_to)
        .where(Message.status.in_((MessageStatus.SENT, MessageStatus.DELIVERED)))
        .order_by(Message.id)
        .with_for_update()
    )
    if only is not None:
        statement = statement.where(Message.id.in_(only))
    moved = []
    for message in await session.scalars(statement):
        if message.status == MessageStatus.SENT and status == MessageStatus.READ:
            messages.transition(session, message, MessageStatus.DELIVERED, at, detail=detail)
        if messages.transition(session, message, status, at, detail=detail):
            moved.append(message)
    return moved


async def subscribe(
    session: AsyncSession, visitor: Visitor, body: PushSubscriptionCreate
) -> PushSubscription:
    """Store (or refresh) a browser's push subscription; its ``auth`` secret encrypted."""
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(body.keys.p256dh))
    except ValueError as exc:
        raise InvalidRequestError(
            "parameter_invalid", "keys.p256dh is not a P-256 public key.", param="keys.p256dh"
        ) from exc
    if len(b64url_decode(body.keys.auth)) != 16:
        raise InvalidRequestError("parameter_invalid", "keys.auth must be 16 bytes.", param="keys.auth")
    existing = await session.scalar(
        select(PushSubscription).where(
            PushSubscription.visitor_id == visitor.id, PushSubscription.endpoint == body.endpoint
        )
    )
    row = existing or PushSubscription(id=new_id("psub"), visitor_id=visitor.id, endpoint=body.endpoint)
    row.p256dh = body.keys.p256dh
    row.auth = keyring().encrypt(body.keys.auth)
    row.created_at = utcnow()
    session.add(row)
    await session.flush()
    return row


@dataclass(frozen=True)
class Ticket:
    ticket: str
    expires_at: datetime


def stream_ticket(visitor: Visitor) -> Ticket:
    """A short-lived credential for the stream's URL (EventSource sends no headers),
    encrypted with the server's key, so any API process accepts it."""
    expires = int(time.time()) + TICKET_SECONDS
    sealed = keyring().encrypt(json.dumps({"visitor": visitor.id, "exp": expires}))
    return Ticket(sealed.removeprefix(PREFIX), datetime.fromtimestamp(expires, UTC))


async def visitor_for_ticket(session: AsyncSession, ticket: str) -> tuple[Visitor, Channel]:
    try:
        claims = json.loads(keyring().decrypt(PREFIX + ticket))
    except (SecretKeyMissing, ValueError):
        claims = {}
    visitor = (
        await session.get(Visitor, str(claims.get("visitor"))) if claims.get("exp", 0) > time.time() else None
    )
    channel = await session.get(Channel, visitor.channel_id) if visitor else None
    if visitor is None or channel is None or channel.deleted_at is not None:
        raise AuthenticationError(
            "invalid_stream_ticket",
            "The stream ticket is not valid or has expired: get a new one.",
            param="ticket",
        )
    return visitor, channel
