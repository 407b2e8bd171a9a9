from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omniroute.core.db import Base
from omniroute.core.tenancy import TenantScoped
from omniroute.core.time import UTCDateTime


class ProviderWebhook(TenantScoped, Base):
    """One webhook delivery exactly as received. The same body delivered twice to one
    channel has the same ``content_hash``: the second delivery is recognised and ignored."""

    __tablename__ = "provider_webhooks"
    __table_args__ = (UniqueConstraint("channel_id", "content_hash"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(40), ForeignKey("channels.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(32))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    content_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the raw body, hex."""
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    """Why the body could not be read, when it could not."""
