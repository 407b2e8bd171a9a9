"""Delivery receipts per part, kept whether or not their message is known yet."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from omniroute.core.db import Base
from omniroute.core.time import UTCDateTime


class SmsPart(Base):
    """One submitted part of an outbound SMS, named by the SMSC's message id."""

    __tablename__ = "sms_parts"
    __table_args__ = (Index("ix_sms_parts_provider_id", "channel_id", "provider_message_id", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    channel_id: Mapped[str] = mapped_column(String(40))
    part: Mapped[int] = mapped_column(Integer)
    """1-based, in the order of the concatenated message."""
    provider_message_id: Mapped[str] = mapped_column(String(128))


class DeliveryReport(Base):
    """A delivery receipt as the SMSC sent it. Stored on arrival, before its part may be
    known (a receipt can overtake the submit_sm_resp); ``applied_at`` is set once it
    moved its message."""

    __tablename__ = "sms_delivery_reports"
    __table_args__ = (
        Index("ix_sms_delivery_reports_provider_id", "channel_id", "provider_message_id"),
        Index("ix_sms_delivery_reports_pending", "channel_id", "applied_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel_id: Mapped[str] = mapped_column(String(40), ForeignKey("channels.id", ondelete="CASCADE"))
    provider_message_id: Mapped[str] = mapped_column(String(128))
    stat: Mapped[str] = mapped_column(String(16))
    """The receipt's ``stat`` (DELIVRD, UNDELIV, ...)."""
    error_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SmppBind(Base):
    """Which worker process holds a channel's one SMPP bind, until when (a lease)."""

    __tablename__ = "smpp_binds"

    channel_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    owner: Mapped[str] = mapped_column(String(200))
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime())
