"""Workspaces, their API keys, and the workspace clock every tenant row is stamped with."""

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, event, false, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column

from omniroute.core.db import Base
from omniroute.core.tenancy import Mode, Tenant, TenantScoped, Timestamped
from omniroute.core.time import UTCDateTime, clock_now, utcnow


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
    live_marketing_frequency_cap_hours: Mapped[int | None] = mapped_column(Integer, nullable=True)
    test_marketing_frequency_cap_hours: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """A campaign's marketing message skips a recipient who got a marketing message from
    this workspace in the last this many hours, per mode; 0: no cap; None: the operator's
    default (``OMNIROUTE_MARKETING_FREQUENCY_CAP_HOURS``)."""

    def now(self, mode: Mode | str) -> datetime:
        """The current time for this workspace in ``mode`` (test mode has its own clock).
        ``mode`` may be a row's plain string: a loaded ``mode`` column is not a ``Mode``."""
        return clock_now(self.test_clock_offset_seconds, test_mode=Mode(mode) is Mode.TEST)

    def window_expiring_lead_seconds(self, mode: Mode) -> int | None:
        if Mode(mode) is Mode.TEST:
            return self.test_window_expiring_lead_seconds
        return self.live_window_expiring_lead_seconds

    def set_window_expiring_lead_seconds(self, mode: Mode, seconds: int | None) -> None:
        if Mode(mode) is Mode.TEST:
            self.test_window_expiring_lead_seconds = seconds
        else:
            self.live_window_expiring_lead_seconds = seconds

    def setting(self, name: str, mode: Mode | str) -> int | None:
        """A per-mode setting (``<mode>_<name>`` column); None: the operator's default."""
        return getattr(self, f"{Mode(mode).value}_{name}")  # type: ignore[no-any-return]

    def set_setting(self, name: str, mode: Mode | str, value: int | None) -> None:
        setattr(self, f"{Mode(mode).value}_{name}", value)


async def now_of(session: AsyncSession, tenant: Tenant) -> datetime:
    """The current time on the clock of ``tenant``'s workspace and mode."""
    return await session.run_sync(_now_of, tenant.workspace_id, tenant.mode)


def _now_of(session: Session, workspace_id: str, mode: Mode | str) -> datetime:
    if Mode(mode) is Mode.LIVE:
        return utcnow()
    # Held by the session: the identity map keeps only weak references, so a workspace
    # nothing else holds would be read again at every flush of a long batch.
    held: dict[str, Workspace] = session.info.setdefault("clock_workspaces", {})
    workspace = held.get(workspace_id)
    if workspace is None:
        with session.no_autoflush:
            workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        held[workspace_id] = workspace
    return workspace.now(Mode.TEST)


CLOCK_STAMPED = ("created_at", "updated_at")
"""Columns a tenant row gets from its workspace clock when it is inserted without them."""


async def clock_stamped(session: AsyncSession, model: type[Any], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` for a Core insert of ``model`` with the workspace clock's stamps added,
    as the flush hook below adds them to ORM inserts (a Core insert bypasses it)."""
    if not issubclass(model, TenantScoped):
        return values
    columns = [column for column in CLOCK_STAMPED if hasattr(model, column) and column not in values]
    if not columns:
        return values
    now = await session.run_sync(_now_of, values["workspace_id"], values["mode"])
    return {**values, **dict.fromkeys(columns, now)}


@event.listens_for(Session, "before_flush")
def stamp_from_workspace_clock(session: Session, _flush_context: Any, _instances: Any) -> None:
    """Stamp tenant rows from their own workspace's clock, so test-mode data never carries
    real time (the column defaults would): ``created_at``/``updated_at`` left empty on
    insert, and ``updated_at`` on update where the model declares it auto-updated. One
    place for every model, whoever writes the row (request, worker, provider event)."""
    clocks: dict[tuple[str, str], datetime] = {}

    def now(row: TenantScoped) -> datetime:
        key = (row.workspace_id, str(row.mode))
        if key not in clocks:
            clocks[key] = _now_of(session, row.workspace_id, row.mode)
        return clocks[key]

    for row in session.new:
        if isinstance(row, TenantScoped):
            for column in CLOCK_STAMPED:
                if hasattr(type(row), column) and getattr(row, column) is None:
                    setattr(row, column, now(row))
    for row in session.dirty:
        if (
            isinstance(row, TenantScoped)
            and _auto_updated(row)
            and session.is_modified(row)
            and not inspect(row).attrs.updated_at.history.has_changes()
        ):
            row.updated_at = now(row)  # type: ignore[attr-defined]


def _auto_updated(row: TenantScoped) -> bool:
    column = inspect(type(row)).columns.get("updated_at")
    return column is not None and column.onupdate is not None


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
