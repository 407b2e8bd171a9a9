"""The backlog /metrics reports: queued outbound messages per channel and priority lane,
with the time the oldest of them was accepted."""

from omniroute.core.db import Database
from omniroute.messages.backlog import queued_by_lane
from tests.conftest import Tenant, accept_in


async def test_queued_messages_are_counted_per_channel_and_lane(tenant: Tenant, db: Database) -> None:
    await tenant.inbound()
    async with db.sessionmaker() as session:  # never committed: the worker never sees them
        first = await accept_in(session, tenant, text={"body": "one"}, priority="bulk")
        await accept_in(session, tenant, text={"body": "two"}, priority="bulk")
        await accept_in(session, tenant, text={"body": "code 123456"}, priority="high")

        lanes = [lane for lane in await queued_by_lane(session) if lane.channel_id == tenant.whatsapp]
        await session.rollback()

    assert [(lane.lane, lane.queued) for lane in lanes] == [("bulk", 2), ("high", 1)]
    assert lanes[0].oldest_queued_at == first.created_at
