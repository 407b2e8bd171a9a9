from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from omniroute.core.db import Base, JSONType
from omniroute.core.tenancy import TenantScoped
from omniroute.core.time import UTCDateTime


class Event(TenantScoped, Base):
    """A state change, written in the same transaction as the change itself.

    ``data`` is the resource as the API returns it at that moment; the ids beside it
    make the event log searchable without reading the JSON."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_tenant_id", "workspace_id", "mode", "id"),
        Index("ix_events_message_id", "message_id"),
        Index("ix_events_campaign_id", "campaign_id"),
        Index("ix_events_fanout_pending", "fanout_pending"),
        Index("ix_events_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    message_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    campaign_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    conversation_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    template_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    channel_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    """When the change happened, on the mode's clock (the test clock in test mode)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    """When the row was written, on the real clock (retention is measured from it)."""
    fanout_pending: Mapped[bool] = mapped_column(default=True)
    """Not yet turned into webhook deliveries (the webhook fan-out pass clears it)."""
