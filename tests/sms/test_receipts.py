"""Delivery receipts per part: kept on arrival whatever their order, applied once their
part is known, and a message is delivered only when every part is."""

from datetime import UTC, datetime

from sqlalchemy import select

from omniroute.channels.models import Channel
from omniroute.core.db import Database
from omniroute.messages import service as messages
from omniroute.messages.models import Message, MessageStatus
from omniroute.sms import service as sms
from omniroute.sms.models import DeliveryReport, SmsPart
from tests.conftest import Tenant, accept_in

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def sent_message(db: Database, tenant: Tenant) -> tuple[str, str]:
    """A message on the SMS channel, marked sent (as dispatch leaves it)."""
    async with db.transaction() as session:
        message = await accept_in(session, tenant, channel_id=tenant.sms, text={"body": "Hi"})
        messages.transition(session, message, MessageStatus.SENT, NOW)
        await session.flush()
        return message.id, message.channel_id


async def receipt(db: Database, channel_id: str, provider_id: str, stat: str) -> None:
    async with db.transaction() as session:
        channel = await session.get(Channel, channel_id)
        assert channel is not None
        await sms.record_receipt(
            session,
            channel,
            provider_message_id=provider_id,
            stat=stat,
            error_code="000",
            done_at=NOW,
            now=NOW,
        )


async def parts(db: Database, message_id: str, *ids: str) -> None:
    async with db.transaction() as session:
        message = await session.get(Message, message_id)
        assert message is not None
        await sms.record_parts(session, message, ids, NOW)


async def status_of(db: Database, message_id: str) -> str:
    async with db.sessionmaker() as session:
        return str(await session.scalar(select(Message.status).where(Message.id == message_id)))


async def test_a_receipt_for_an_unknown_id_is_kept_and_applied_when_its_part_appears(
    tenant: Tenant, db: Database
) -> None:
    message_id, channel_id = await sent_message(db, tenant)
    await receipt(db, channel_id, "early-1", "DELIVRD")
    async with db.sessionmaker() as session:
        kept = await session.scalar(
            select(DeliveryReport).where(DeliveryReport.provider_message_id == "early-1")
        )
        assert kept is not None and kept.applied_at is None
    assert await status_of(db, message_id) == "sent"

    await parts(db, message_id, "early-1")
    assert await status_of(db, message_id) == "delivered"


async def test_a_multi_part_message_is_delivered_when_all_parts_are(tenant: Tenant, db: Database) -> None:
    message_id, channel_id = await sent_message(db, tenant)
    await parts(db, message_id, "p-1", "p-2", "p-3")
    await receipt(db, channel_id, "p-2", "DELIVRD")
    await receipt(db, channel_id, "p-1", "DELIVRD")
    assert await status_of(db, message_id) == "sent"
    await receipt(db, channel_id, "p-3", "DELIVRD")
    assert await status_of(db, message_id) == "delivered"


async def test_one_failed_part_fails_the_message_with_its_reason(tenant: Tenant, db: Database) -> None:
    message_id, channel_id = await sent_message(db, tenant)
    await parts(db, message_id, "f-1", "f-2")
    await receipt(db, channel_id, "f-1", "DELIVRD")
    await receipt(db, channel_id, "f-2", "EXPIRED")
    async with db.sessionmaker() as session:
        message = await session.get(Message, message_id)
        assert message is not None
        assert message.status == "failed"
        assert message.error == {
            "code": "expired",
            "message": "Part 2: " + sms.outcome_of("EXPIRED").message,
            "provider_code": "EXPIRED",
        }


async def test_the_sweep_applies_receipts_whose_part_was_recorded_concurrently(
    tenant: Tenant, db: Database
) -> None:
    message_id, channel_id = await sent_message(db, tenant)
    await receipt(db, channel_id, "race-1", "DELIVRD")
    # The part committed by a transaction that could not see the receipt:
    async with db.transaction() as session:
        session.add(
            SmsPart(message_id=message_id, channel_id=channel_id, part=1, provider_message_id="race-1")
        )
    assert await status_of(db, message_id) == "sent"
    async with db.transaction() as session:
        assert await sms.apply_pending(session, NOW) >= 1
    assert await status_of(db, message_id) == "delivered"


def test_stat_values_map_to_statuses_and_reasons() -> None:
    assert sms.outcome_of("DELIVRD").status == "delivered"
    assert sms.outcome_of("ENROUTE").status == "sent"
    assert [sms.outcome_of(s).code for s in ("EXPIRED", "REJECTD", "UNDELIV", "DELETED")] == [
        "expired",
        "rejected",
        "undeliverable",
        "deleted",
    ]
    assert sms.outcome_of("WEIRD").code == "delivery_failed"
