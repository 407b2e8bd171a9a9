from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from omniroute.core.db import Base, JSONType
from omniroute.core.tenancy import TenantScoped, Timestamped
from omniroute.core.time import UTCDateTime, utcnow


class Direction(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class MessageKind(StrEnum):
    SESSION = "session"  # free-form, allowed only inside the customer service window
    TEMPLATE = "template"


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    RECEIVED = "received"


class Priority(StrEnum):
    HIGH = "high"  # one-time codes and replies to a waiting customer
    NORMAL = "normal"
    BULK = "bulk"  # campaigns


class FallbackUsed(StrEnum):
    TEMPLATE = "template"
    CHANNEL = "channel"


class Message(TenantScoped, Timestamped, Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_tenant_id", "workspace_id", "mode", "id"),
        Index("ix_messages_provider_message_id", "channel_id", "provider_message_id", unique=True),
        Index("ix_messages_reference", "workspace_id", "mode", "reference"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(40), ForeignKey("channels.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    conversation_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True
    )
    direction: Mapped[Direction] = mapped_column(String(16))
    kind: Mapped[MessageKind] = mapped_column(String(16))
    content_type: Mapped[str] = mapped_column(String(16))
    """``text``, ``image``, ``interactive``, ... or ``template``."""
    content: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    template: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    """The template reference as requested, plus ``id`` and ``category`` once resolved."""
    fallback: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    """The caller's fallback, kept so dispatch can still apply it if the window closes."""
    fallback_used: Mapped[str | None] = mapped_column(String(16), nullable=True)
    fallback_for: Mapped[str | None] = mapped_column(String(40), nullable=True)
    """On a fallback message: the message it replaces (failed undeliverable)."""
    fallback_message_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    """On a message that failed undeliverable: the fallback message sent instead."""
    recipient: Mapped[str] = mapped_column(String(320))
    sender: Mapped[str] = mapped_column(String(320))
    status: Mapped[MessageStatus] = mapped_column(String(16))
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    priority: Mapped[Priority] = mapped_column(String(8), default=Priority.NORMAL)
    extra_metadata: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONType, nullable=True)
    reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    campaign_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    pricing: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    sms: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    """An SMS text's ``{"encoding", "segments"}`` (``sms/encoding.py``)."""
    business_initiated: Mapped[bool] = mapped_column(default=False)
    """A template sent while the window was closed: counts against the messaging tier."""

    provider_message_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider_call_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """Set (and committed) before a provider call, cleared when its result is recorded.
    Found set after a crash, it means the outcome of that call is unknown."""
    outcome_unknown_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class MessageStatusChange(Base):
    __tablename__ = "message_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[MessageStatus] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class ChannelPace(Base):
    """The shared rate state of one channel (``messages/pacing.py``): the next free send
    slot of each lane's share of the throughput, in epoch seconds, and how far a provider's
    throughput refusal slowed the channel. Updated under a row lock in dispatch's prepare
    transaction, so any number of workers together stay within the limit."""

    __tablename__ = "channel_paces"

    channel_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    next_slot_at: Mapped[float] = mapped_column(Float, default=0.0)
    next_priority_slot_at: Mapped[float] = mapped_column(Float, default=0.0)
    slowdown: Mapped[float] = mapped_column(Float, default=1.0)
    """The fraction of ``throughput_per_second`` in use: below 1 after a 130429, back to 1
    gradually."""
    slowed_at: Mapped[float] = mapped_column(Float, default=0.0)


class PairPace(Base):
    """The pair rate state of one (channel, recipient) pair (``messages/pacing.py``): when
    the pair's allowance is used up to, in epoch seconds (a generic cell rate: a send may
    go once ``next_at`` is within the burst tolerance of now). A row whose ``next_at`` has
    passed says nothing more than no row: those are purged."""

    __tablename__ = "pair_paces"

    channel_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    recipient: Mapped[str] = mapped_column(String(320), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float, index=True)
