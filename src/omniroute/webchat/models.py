from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omniroute.core.db import Base
from omniroute.core.tenancy import TenantScoped, Timestamped
from omniroute.core.time import UTCDateTime


class Visitor(TenantScoped, Timestamped, Base):
    """A browser chatting on a web channel. Its token (only its hash is stored) opens
    exactly one conversation: the one of its contact (address = visitor id) on its
    channel."""

    __tablename__ = "webchat_visitors"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[str] = mapped_column(String(40), ForeignKey("contacts.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 (hex) of the visitor's token."""
    origin: Mapped[str] = mapped_column(String(300))
    """The site the chat was opened on."""
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)


class VisitorStream(Base):
    """An open live stream of a visitor (one per open widget, in any API process): while
    one is fresh, replies go by stream instead of Web Push."""

    __tablename__ = "webchat_streams"
    __table_args__ = (Index("ix_webchat_streams_visitor_id", "visitor_id", "expires_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(40), ForeignKey("webchat_visitors.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    """Real time; refreshed by the stream's heartbeat, so a crashed process's streams lapse."""


class PushSubscription(Base):
    """A browser's Web Push subscription (RFC 8030). ``auth`` is a secret: encrypted at
    rest (``core.secrets``)."""

    __tablename__ = "webchat_push_subscriptions"
    __table_args__ = (UniqueConstraint("visitor_id", "endpoint"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(40), ForeignKey("webchat_visitors.id", ondelete="CASCADE"))
    endpoint: Mapped[str] = mapped_column(Text)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
