from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from omniroute.core.db import Base
from omniroute.core.secrets import EncryptedConfig
from omniroute.core.tenancy import TenantScoped, Timestamped
from omniroute.core.time import UTCDateTime


class ChannelType(StrEnum):
    WHATSAPP = "whatsapp"
    SMS = "sms"
    EMAIL = "email"
    WEB = "web"


class ChannelStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
    CREDENTIALS_REJECTED = "credentials_rejected"


class Channel(TenantScoped, Timestamped, Base):
    __tablename__ = "channels"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    type: Mapped[ChannelType] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(32))
    status: Mapped[ChannelStatus] = mapped_column(String(32), default=ChannelStatus.ACTIVE)
    address: Mapped[str] = mapped_column(String(320))
    config: Mapped[dict[str, Any]] = mapped_column(EncryptedConfig(), default=dict)
    """Provider settings; secrets are encrypted in the database (``core.secrets``) and
    never returned (see schemas)."""
    throughput_per_second: Mapped[int] = mapped_column(Integer)
    messaging_tier: Mapped[str | None] = mapped_column(String(32), nullable=True)
    quality_rating: Mapped[str | None] = mapped_column(String(16), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
