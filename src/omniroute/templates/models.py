from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from omniroute.core.db import Base, JSONType
from omniroute.core.tenancy import TenantScoped, Timestamped
from omniroute.core.time import UTCDateTime, utcnow
from omniroute.policy.templates import TemplateCategory, TemplateStatus


class Template(TenantScoped, Timestamped, Base):
    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("channel_id", "name", "language"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(16))
    category: Mapped[TemplateCategory] = mapped_column(String(32))
    status: Mapped[TemplateStatus] = mapped_column(String(32))
    rejection_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    suggested_category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The category the reviewer suggests when it rejected the template for its category."""
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    """Why the template is in its status (paused, disabled, ...), in words."""
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    pause_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Quality pauses so far: the next one lasts longer, the last one disables the template."""
    locked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    quality_score: Mapped[str | None] = mapped_column(String(16), nullable=True)
    category_history: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONType, default=list, server_default="[]"
    )
    """Re-categorisations: previous/new category, when announced and when completed."""
    quality_history: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list, server_default="[]")
    edits: Mapped[list[str]] = mapped_column(JSONType, default=list, server_default="[]")
    """When the template was edited while APPROVED (RFC 3339), for Meta's edit limits."""
    components: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    message_send_ttl_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Meta's time-to-live for the template's messages (None: Meta's default)."""
    variables: Mapped[dict[str, Any]] = mapped_column(JSONType)
    """Expected parameters per component, derived from ``components`` at submission."""
    provider_template_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    """When the status last changed, on the same clock as the status history."""


class TemplateStatusChange(Base):
    """Every status a template passed through, with the reason when there is one."""

    __tablename__ = "template_status_changes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    template_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("templates.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(32))
    """A ``TemplateStatus``, or a webhook-only notice (FLAGGED, LOCKED, ...) that left it unchanged."""
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
