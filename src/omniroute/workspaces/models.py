from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from omniroute.core.db import Base
from omniroute.core.tenancy import Mode, Timestamped
from omniroute.core.time import UTCDateTime, clock_now


class Workspace(Timestamped, Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    test_clock_offset_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    live_window_expiring_lead_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    test_window_expiring_lead_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """How long before a window closes ``conversation.window_expiring`` fires, per mode (a
    test key's setting never changes live behaviour); None: the operator's default
    (``OMNIROUTE_WINDOW_EXPIRING_LEAD_SECONDS``)."""

    def now(self, mode: Mode) -> datetime:
        """The current time for this workspace in ``mode`` (test mode has its own clock)."""
        return clock_now(self.test_clock_offset_seconds, test_mode=mode is Mode.TEST)

    def window_expiring_lead_seconds(self, mode: Mode) -> int | None:
        if mode is Mode.TEST:
            return self.test_window_expiring_lead_seconds
        return self.live_window_expiring_lead_seconds

    def set_window_expiring_lead_seconds(self, mode: Mode, seconds: int | None) -> None:
        if mode is Mode.TEST:
            self.test_window_expiring_lead_seconds = seconds
        else:
            self.live_window_expiring_lead_seconds = seconds


class ApiKey(Timestamped, Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    mode: Mapped[Mode] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(32))
    """The first characters of the key, shown so a person can tell keys apart."""
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """Set when the key was rotated with a grace period: it stops working then."""
    admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """An operator's key (live only): manages API keys and workspaces of the whole install."""

    def usable_at(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)
