"""The sandbox plays a delivery script one event at a time: only the next event is ever
scheduled, so statuses reach the message in the script's order however many workers run."""

from sqlalchemy import select

from omniroute.channels.models import Channel
from omniroute.core.db import Database
from omniroute.jobs.models import Job
from omniroute.providers.sandbox.provider import EMIT_JOB, schedule_script
from tests.conftest import Tenant


async def test_only_the_first_event_is_scheduled_and_it_carries_the_rest(
    tenant: Tenant, db: Database
) -> None:
    sent, delivered, read = ({"type": "status", "status": s} for s in ("sent", "delivered", "read"))
    async with db.transaction() as session:
        channel = await session.get(Channel, tenant.whatsapp)
        assert channel is not None
        schedule_script(session, channel, [(1.0, sent), (3.0, delivered), (6.0, read)])
        [payload] = (
            await session.scalars(
                select(Job.payload).where(
                    Job.kind == EMIT_JOB,
                    Job.workspace_id == tenant.workspace_id,
                    Job.payload["event"]["status"].as_string() == "sent",
                )
            )
        ).all()
        await session.rollback()
    assert payload["then"] == [[2.0, delivered], [5.0, read]]


async def test_statuses_of_each_send_are_recorded_in_order(tenant: Tenant) -> None:
    await tenant.inbound()
    responses = [await tenant.send() for _ in range(5)]
    assert all(response.status_code == 202 for response in responses)
    for response in responses:
        message = await tenant.wait_for(response.json()["id"], "read")
        statuses = [change["status"] for change in message["status_history"]]
        assert statuses == ["queued", "sending", "sent", "delivered", "read"]
