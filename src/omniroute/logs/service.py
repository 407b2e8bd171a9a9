"""Reading the workspace log and forgetting it after the retention period."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from omniroute.core.errors import InvalidRequestError
from omniroute.core.pagination import is_listed, unknown_cursor
from omniroute.core.tenancy import Mode, Tenant, TenantRef
from omniroute.core.time import utcnow
from omniroute.events.models import Event
from omniroute.requestlog.models import RequestLogEntry
from omniroute.webhooks.models import WebhookDelivery
from omniroute.webhooks.service import DeliveryStatus
from omniroute.workspaces.models import Workspace

Kind = Literal["request", "event"]


@dataclass(frozen=True)
class LogFilter:
    kind: Kind | None
    since: datetime | None
    until: datetime | None
    message_id: str | None
    campaign_id: str | None
    type: str | None

    @property
    def kinds(self) -> tuple[Kind, ...]:
        event_filter = next(
            (name for name in ("message_id", "campaign_id", "type") if getattr(self, name)), None
        )
        if event_filter is None:
            return (self.kind,) if self.kind else ("request", "event")
        if self.kind == "request":
            raise InvalidRequestError(
                "parameter_invalid",
                f"{event_filter} filters events; drop it or use kind=event.",
                param=event_filter,
            )
        return ("event",)


def _suffix(identifier: str) -> str:
    """The time-sortable part of an id, comparable across prefixes."""
    return identifier.partition("_")[2]


def _requests(tenant: Tenant, where: LogFilter) -> Select[RequestLogEntry]:
    statement = select(RequestLogEntry).where(
        RequestLogEntry.workspace_id == tenant.workspace_id, RequestLogEntry.mode == tenant.mode.value
    )
    if where.since:
        statement = statement.where(RequestLogEntry.created_at >= where.since)
    if where.until:
        statement = statement.where(RequestLogEntry.created_at < where.until)
    return statement


def _events(tenant: Tenant, where: LogFilter) -> Select[Event]:
    statement = select(Event).where(Event.workspace_id == tenant.workspace_id, Event.mode == tenant.mode)
    if where.since:
        statement = statement.where(Event.created_at >= where.since)
    if where.until:
        statement = statement.where(Event.created_at < where.until)
    if where.message_id:
        statement = statement.where(Event.message_id == where.message_id)
    if where.campaign_id:
        statement = statement.where(Event.campaign_id == where.campaign_id)
    if where.type:
        statement = statement.where(Event.type == where.type)
    return statement


async def read(
    session: AsyncSession, tenant: Tenant, where: LogFilter, limit: int, starting_after: str | None
) -> tuple[list[Any], bool]:
    """Newest first across both kinds; the cursor is the last id returned, of either kind
    (ids of both sort by creation time after their prefix)."""
    lists: list[tuple[Select[Any], InstrumentedAttribute[str], str]] = [
        (_requests(tenant, where), RequestLogEntry.id, "req_")
        if kind == "request"
        else (_events(tenant, where), Event.id, "evt_")
        for kind in where.kinds
    ]
    if starting_after:
        listed = [
            await is_listed(session, statement, column, starting_after) for statement, column, _ in lists
        ]
        if not any(listed):
            raise unknown_cursor(starting_after)
    rows: list[Any] = []
    for statement, column, prefix in lists:
        if starting_after:
            statement = statement.where(column < prefix + _suffix(starting_after))
        found: Sequence[Any] = (
            await session.scalars(statement.order_by(column.desc()).limit(limit + 1))
        ).all()
        rows.extend(found)
    rows.sort(key=lambda row: _suffix(row.id), reverse=True)
    return rows[:limit], len(rows) > limit


async def purge(session: AsyncSession, retention: timedelta) -> None:
    """Forget request logs, events and finished webhook deliveries older than ``retention``.
    Test-mode rows are stamped on their workspace's test clock, so a workspace whose clock
    runs ahead forgets its test rows by that clock; a row old by real time is old by any
    test clock too (an offset only grows)."""
    await _forget_before(session, utcnow() - retention)
    for workspace in await session.scalars(select(Workspace).where(Workspace.test_clock_offset_seconds > 0)):
        tenant = TenantRef(workspace.id, Mode.TEST)
        await _forget_before(session, workspace.now(Mode.TEST) - retention, tenant)


async def _forget_before(session: AsyncSession, cutoff: datetime, tenant: Tenant | None = None) -> None:
    finished: list[tuple[Any, list[Any]]] = [
        (RequestLogEntry, []),
        (Event, [Event.fanout_pending.is_(False)]),
        (WebhookDelivery, [WebhookDelivery.status != DeliveryStatus.PENDING]),
    ]
    for model, conditions in finished:
        if tenant is not None:
            conditions = [*conditions, model.workspace_id == tenant.workspace_id, model.mode == tenant.mode]
        await session.execute(delete(model).where(model.created_at < cutoff, *conditions))
