"""A campaign: one approved template (WhatsApp) or one text or email body (SMS, email)
sent to a list of recipients, paced by the channel's limits. Each recipient row says what became of it: a message, or why it was skipped."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from omniroute.core.db import Base, JSONType
from omniroute.core.tenancy import TenantScoped, Timestamped
from omniroute.core.time import UTCDateTime, utcnow


class CampaignStatus(StrEnum):
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class OnLimit(StrEnum):
    """What a recipient beyond the messaging tier gets: the next free slot, or a failure."""

    WAIT = "wait"
    FAIL = "fail"


class RecipientStatus(StrEnum):
    PENDING = "pending"  # no message yet: created in batches while the campaign runs
    QUEUED = "queued"  # its message exists (the message's own status tells the rest)
    SKIPPED = "skipped"  # never sent, with a reason
    CANCELLED = "cancelled"  # the campaign was cancelled before its message was made


class Campaign(TenantScoped, Timestamped, Base):
    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_tenant_id", "workspace_id", "mode", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(40), ForeignKey("channels.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    template: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=False)
    """WhatsApp: ``{"id", "name", "language", "category"}`` as resolved at creation. JSON
    ``null`` for SMS and email campaigns (the column predates them and stays NOT NULL: on
    SQLite relaxing it would copy the table, deleting its recipients by cascade)."""
    content: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    """SMS and email: ``{"category", "text": {"body"}}`` or ``{"category", "email":
    {"subject", "text", "html"}}``, with ``{{variable}}`` placeholders filled per recipient."""
    status: Mapped[CampaignStatus] = mapped_column(String(16))
    on_limit: Mapped[OnLimit] = mapped_column(String(8), default=OnLimit.WAIT)
    schedule_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    paused_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """The quality guard counts failures since the later of start and the last resume."""
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def category(self) -> str:
        """MARKETING, UTILITY or AUTHENTICATION: the template's, or the one given for a text
        or email campaign."""
        return str((self.template or self.content or {})["category"])


class CampaignRecipient(Base):
    """One row of the campaign's list, inserted in bulk at creation (not tenant-stamped:
    its campaign is)."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (Index("ix_campaign_recipients_status", "campaign_id", "status", "row"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(40), ForeignKey("campaigns.id", ondelete="CASCADE"))
    row: Mapped[int] = mapped_column(Integer)
    """Position in the list (the CSV's data row, from 1)."""
    to: Mapped[str] = mapped_column(String(320))
    """E.164 when valid; as given otherwise."""
    parameters: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[RecipientStatus] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """Why it was skipped: an error code of the contract (``invalid_recipient``, ...)."""
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
