"""Workspaces and modes: every business row belongs to one workspace and one mode,
and every query is scoped by both, so tenants and modes never see each other's data."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from omniroute.core.time import UTCDateTime, utcnow


class Mode(StrEnum):
    TEST = "test"
    LIVE = "live"


class TenantScoped:
    @declared_attr
    def workspace_id(cls) -> Mapped[str]:
        return mapped_column(String(40), ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)

    mode: Mapped[Mode] = mapped_column(String(8))


class Timestamped:
    """``created_at`` of a tenant row comes from its workspace's clock (stamped at flush by
    ``workspaces.models.stamp_from_workspace_clock``); the real-time default only serves
    rows of no tenant (workspaces, keys, the request log's own default)."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Tenant(Protocol):
    """Anything that says which workspace and mode a query is scoped to."""

    @property
    def workspace_id(self) -> str: ...

    @property
    def mode(self) -> Mode: ...


@dataclass(frozen=True)
class TenantRef:
    workspace_id: str
    mode: Mode
