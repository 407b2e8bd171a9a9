"""The backlog: outbound messages still queued, as ``GET /metrics`` reports them."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.core.metrics import LaneDepth
from omniroute.core.tenancy import Tenant
from omniroute.messages.models import Direction, Message, MessageStatus


async def queued_by_lane(session: AsyncSession, tenant: Tenant | None = None) -> list[LaneDepth]:
    """Per channel and priority lane, across workspaces and modes (or of one tenant, for
    the dashboard): how many outbound messages are queued and when the oldest of them was
    accepted."""
    statement = select(
        Message.channel_id, Message.priority, func.count(), func.min(Message.created_at)
    ).where(Message.status == MessageStatus.QUEUED, Message.direction == Direction.OUTBOUND)
    if tenant is not None:
        statement = statement.where(Message.workspace_id == tenant.workspace_id, Message.mode == tenant.mode)
    rows = await session.execute(
        statement.group_by(Message.channel_id, Message.priority).order_by(
            Message.channel_id, Message.priority
        )
    )
    return [LaneDepth(channel, str(lane), count, oldest) for channel, lane, count, oldest in rows.all()]
