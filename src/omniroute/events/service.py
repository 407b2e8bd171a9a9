"""Recording events. Callers pass the session that makes the change, so the event
commits or rolls back with it: no change without its event, no event without its change."""

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.core.ids import new_id
from omniroute.core.tenancy import Mode, Tenant
from omniroute.events.models import Event
from omniroute.events.types import EventType


def record(
    session: AsyncSession,
    tenant: Tenant,
    type: EventType,
    data: dict[str, Any],
    *,
    at: datetime,
    message_id: str | None = None,
    campaign_id: str | None = None,
    conversation_id: str | None = None,
    template_id: str | None = None,
    channel_id: str | None = None,
) -> Event:
    event = Event(
        id=new_id("evt"),
        workspace_id=tenant.workspace_id,
        mode=Mode(tenant.mode),
        type=type.value,
        data=data,
        message_id=message_id,
        campaign_id=campaign_id,
        conversation_id=conversation_id,
        template_id=template_id,
        channel_id=channel_id,
        occurred_at=at,
        fanout_pending=True,
    )
    session.add(event)
    return event
