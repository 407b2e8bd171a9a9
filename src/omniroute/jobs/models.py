from datetime import datetime
from typing import Any

from sqlalchemy import Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from omniroute.core.db import Base, JSONType
from omniroute.core.time import UTCDateTime, utcnow


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_due", "dead", "priority", "run_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    workspace_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    mode: Mapped[str | None] = mapped_column(String(8), nullable=True)
    """Test-mode jobs follow the workspace's test clock: advancing it brings them forward."""
    priority: Mapped[int] = mapped_column(Integer, default=5)
    """Lower runs first: 0 high (OTP, replies), 5 normal, 9 bulk."""
    run_at: Mapped[float] = mapped_column(Float)
    """Epoch seconds (real time) at which the job becomes due."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=20)
    locked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    locked_until: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    dead: Mapped[bool] = mapped_column(default=False)
    """Gave up after max_attempts; kept for inspection, never claimed again."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
