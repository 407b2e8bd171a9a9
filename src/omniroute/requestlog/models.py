from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from omniroute.core.db import Base
from omniroute.core.tenancy import Timestamped


class RequestLogEntry(Timestamped, Base):
    __tablename__ = "request_log"
    __table_args__ = (Index("ix_request_log_tenant_id", "workspace_id", "mode", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    """The request id returned in ``X-Request-Id``."""
    workspace_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    mode: Mapped[str | None] = mapped_column(String(8), nullable=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    status_code: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[float] = mapped_column(Float)
    key_prefix: Mapped[str | None] = mapped_column(String(32), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
