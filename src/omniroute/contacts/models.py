from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omniroute.core.db import Base
from omniroute.core.tenancy import TenantScoped, Timestamped
from omniroute.core.time import UTCDateTime


class Contact(TenantScoped, Timestamped, Base):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("workspace_id", "mode", "address"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    address: Mapped[str] = mapped_column(String(320))
    """E.164 phone number (or email address for email channels)."""
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ContactOptOut(Base):
    """A contact's opt-out from one channel (STOP, or via the API)."""

    __tablename__ = "contact_opt_outs"

    contact_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    channel_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(32))
    """``keyword`` (the customer wrote STOP) or ``api``."""
