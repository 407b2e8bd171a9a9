from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from omniroute.core.db import Base, JSONType
from omniroute.core.tenancy import TenantScoped, Timestamped
from omniroute.core.time import UTCDateTime, utcnow


class VerificationStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    EXPIRED = "expired"
    MAX_ATTEMPTS_REACHED = "max_attempts_reached"
    CANCELED = "canceled"
    FAILED = "failed"
    """Every channel was tried and none delivered the code."""


class Verification(TenantScoped, Timestamped, Base):
    """One code sent to one destination. The code itself is never stored in clear:
    ``code_hash`` (HMAC-SHA256 under the server's secret key) is what a check compares;
    ``code_sealed`` (Fernet, the channel-secret keyring) lets a fallback channel send the
    same code and is erased as soon as the verification leaves ``pending``."""

    __tablename__ = "verifications"
    __table_args__ = (
        Index("ix_verifications_tenant_id", "workspace_id", "mode", "id"),
        Index("ix_verifications_destination", "workspace_id", "mode", "to", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    to: Mapped[str] = mapped_column(String(320))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    """Where the email channel sends when ``to`` is a phone number."""
    channels: Mapped[list[str]] = mapped_column(JSONType)
    """The channels to try, in order, as asked (a type or a channel id)."""
    channel: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """The channel type of the current (latest) attempt."""
    attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    status: Mapped[VerificationStatus] = mapped_column(String(24))
    code_length: Mapped[int] = mapped_column(Integer)
    code_hash: Mapped[str] = mapped_column(String(64))
    code_sealed: Mapped[str | None] = mapped_column(String(400), nullable=True)
    checks_left: Mapped[int] = mapped_column(Integer)
    locale: Mapped[str] = mapped_column(String(16))
    brand: Mapped[str | None] = mapped_column(String(60), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class VerificationSettings(TenantScoped, Base):
    """A workspace's own rules for one-time codes, per mode: the countries SMS codes may
    go to, its text templates (replacing the built-in ones per channel and locale), and
    whether a fallback channel gets a new code."""

    __tablename__ = "verification_settings"

    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    """``<workspace_id>:<mode>``."""
    sms_allowed_countries: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)
    templates: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    new_code_per_channel: Mapped[bool] = mapped_column(Boolean, default=False)
