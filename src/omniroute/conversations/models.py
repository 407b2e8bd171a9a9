from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omniroute.core.db import Base
from omniroute.core.tenancy import TenantScoped, Timestamped
from omniroute.core.time import UTCDateTime


class Conversation(TenantScoped, Timestamped, Base):
    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel_id", "contact_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """Timestamp of the customer's latest message, as the customer sent it."""
    window_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """Stored for querying (timers, lists); always equal to last_inbound_at + the window."""
    entry_point_free_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
