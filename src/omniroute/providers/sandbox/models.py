"""The simulated Meta side of sandbox WhatsApp channels: the templates "Meta" holds,
kept apart from omniroute's own table so that sync has something to reconcile."""

from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from omniroute.core.db import Base, JSONType
from omniroute.core.tenancy import TenantScoped, Timestamped


class SandboxTemplate(TenantScoped, Timestamped, Base):
    __tablename__ = "sandbox_templates"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """The provider template id."""
    channel_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    components: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    rejection_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    quality_score: Mapped[str | None] = mapped_column(String(16), nullable=True)
