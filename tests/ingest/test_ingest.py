"""Applying provider events (ingest/service.py): statuses arrive late, twice and out of
order; a status for a send whose outcome was unknown is matched by our own reference;
duplicate inbound deliveries are stored once."""

from datetime import UTC, datetime, timedelta
from typing import Any

from omniroute.channels.models import Channel
from omniroute.core.db import Database
from omniroute.core.ids import new_id
from omniroute.core.tenancy import Mode
from omniroute.ingest.service import apply_event, apply_status, record_inbound
from omniroute.messages.models import Direction, Message, MessageKind, MessageStatus, MessageStatusChange
from omniroute.providers.events import InboundMessage, ReportedError, StatusUpdate
from tests.conftest import CUSTOMER, Tenant, assert_error

T0 = datetime.now(UTC)


async def outbound_in_flight(db: Database, tenant: Tenant, *, provider_message_id: str | None = None) -> str:
    """A WhatsApp message handed to the provider (``sending``), with no job behind it. Without a
    provider id it is a send whose response was lost: its outcome is unknown."""
    opened = (await tenant.inbound()).json()["message"]
    async with db.transaction() as session:
        message = Message(
            id=new_id("msg"),
            workspace_id=tenant.workspace_id,
            mode=Mode.TEST,
            channel_id=tenant.whatsapp,
            contact_id=opened["contact_id"],
            conversation_id=opened["conversation_id"],
            direction=Direction.OUTBOUND,
            kind=MessageKind.SESSION,
            content_type="text",
            content={"body": "Hi"},
            recipient=CUSTOMER,
            sender="+15550100001",
            status=MessageStatus.SENDING,
            attempts=1,
            provider_message_id=provider_message_id,
            outcome_unknown_since=None if provider_message_id else T0,
            created_at=T0,
        )
        session.add(message)
        await session.flush()
        session.add(MessageStatusChange(message_id=message.id, status=MessageStatus.QUEUED, at=T0))
        session.add(MessageStatusChange(message_id=message.id, status=MessageStatus.SENDING, at=T0))
        return message.id


async def report(
    db: Database, tenant: Tenant, status: str, provider_message_id: str, **fields: Any
) -> Message | None:
    async with db.transaction() as session:
        channel = await session.get(Channel, tenant.whatsapp)
        assert channel is not None
        update = StatusUpdate(
            provider_message_id=provider_message_id,
            status=status,  # type: ignore[arg-type]
            timestamp=fields.pop("timestamp", datetime.now(UTC)),
            recipient=CUSTOMER,
            **fields,
        )
        return await apply_status(session, channel, update)


async def history(tenant: Tenant, message_id: str) -> list[str]:
    return [h["status"] for h in (await tenant.message(message_id))["status_history"]]


async def test_status_for_a_send_with_unknown_outcome_is_matched_by_client_reference(
    tenant: Tenant, db: Database
) -> None:
    message_id = await outbound_in_flight(db, tenant)
    matched = await report(db, tenant, "delivered", "wamid.LOST1", client_reference=message_id)
    assert matched is not None and matched.id == message_id
    message = await tenant.message(message_id)
    assert message["status"] == "delivered"
    assert message["provider_message_id"] == "wamid.LOST1"
    async with db.sessionmaker() as session:
        stored = await session.get(Message, message_id)
        assert stored is not None
        assert stored.outcome_unknown_since is None
        assert stored.provider_call_started_at is None

    await report(db, tenant, "read", "wamid.LOST1")  # later statuses match by the provider's id
    assert (await tenant.message(message_id))["status"] == "read"


async def test_status_for_an_unknown_message_changes_nothing(tenant: Tenant, db: Database) -> None:
    message_id = await outbound_in_flight(db, tenant, provider_message_id="wamid.KNOWN")
    assert await report(db, tenant, "delivered", "wamid.SOMEONE_ELSE") is None
    assert await report(db, tenant, "delivered", "wamid.X", client_reference="msg_not_ours") is None
    assert (await tenant.message(message_id))["status"] == "sending"


async def test_status_is_matched_only_on_its_own_channel(tenant: Tenant, db: Database) -> None:
    message_id = await outbound_in_flight(db, tenant, provider_message_id="wamid.CH")
    async with db.transaction() as session:
        sms = await session.get(Channel, tenant.sms)
        assert sms is not None
        update = StatusUpdate(
            provider_message_id="wamid.CH", status="read", timestamp=datetime.now(UTC), recipient=CUSTOMER
        )
        assert await apply_status(session, sms, update) is None
    assert (await tenant.message(message_id))["status"] == "sending"


async def test_read_before_delivered_then_late_delivered_changes_nothing(
    tenant: Tenant, db: Database
) -> None:
    message_id = await outbound_in_flight(db, tenant, provider_message_id="wamid.OOO")
    await report(db, tenant, "sent", "wamid.OOO")
    await report(db, tenant, "read", "wamid.OOO")
    await report(db, tenant, "delivered", "wamid.OOO")
    await report(db, tenant, "sent", "wamid.OOO")
    assert (await tenant.message(message_id))["status"] == "read"
    assert await history(tenant, message_id) == ["queued", "sending", "sent", "read"]


async def test_duplicate_statuses_are_recorded_once(tenant: Tenant, db: Database) -> None:
    message_id = await outbound_in_flight(db, tenant, provider_message_id="wamid.DUP")
    for _ in range(3):
        await report(db, tenant, "delivered", "wamid.DUP")
    assert await history(tenant, message_id) == ["queued", "sending", "delivered"]


async def test_failed_is_final(tenant: Tenant, db: Database) -> None:
    message_id = await outbound_in_flight(db, tenant, provider_message_id="wamid.FAIL")
    await report(
        db,
        tenant,
        "failed",
        "wamid.FAIL",
        error=ReportedError(code="undeliverable", message="message undeliverable", provider_code=131026),
    )
    for later in ("sent", "delivered", "read"):
        await report(db, tenant, later, "wamid.FAIL")
    await report(db, tenant, "failed", "wamid.FAIL", error=ReportedError(code="other", message="x"))
    message = await tenant.message(message_id)
    assert message["status"] == "failed"
    assert message["error"] == {
        "code": "undeliverable",
        "message": "message undeliverable",
        "provider_code": 131026,
    }
    assert await history(tenant, message_id) == ["queued", "sending", "failed"]


async def test_failure_reported_after_delivery_is_ignored(tenant: Tenant, db: Database) -> None:
    message_id = await outbound_in_flight(db, tenant, provider_message_id="wamid.LATEFAIL")
    await report(db, tenant, "delivered", "wamid.LATEFAIL")
    await report(db, tenant, "failed", "wamid.LATEFAIL")
    message = await tenant.message(message_id)
    assert message["status"] == "delivered"
    assert message["error"] is None


async def test_failure_without_details_still_says_it_failed(tenant: Tenant, db: Database) -> None:
    message_id = await outbound_in_flight(db, tenant, provider_message_id="wamid.BARE")
    await report(db, tenant, "failed", "wamid.BARE")
    error = (await tenant.message(message_id))["error"]
    assert error["code"] == "provider_failed"
    assert error["message"]


async def test_status_times_are_the_providers_timestamps(tenant: Tenant, db: Database) -> None:
    message_id = await outbound_in_flight(db, tenant, provider_message_id="wamid.TIME")
    at = (T0 + timedelta(seconds=7)).replace(microsecond=0)
    await report(db, tenant, "delivered", "wamid.TIME", timestamp=at)
    last = (await tenant.message(message_id))["status_history"][-1]
    assert (last["status"], datetime.fromisoformat(last["at"])) == ("delivered", at)


async def test_pricing_reported_with_delivery_is_kept_with_its_cost(tenant: Tenant, db: Database) -> None:
    message_id = await outbound_in_flight(db, tenant, provider_message_id="wamid.PRICE")
    pricing = {
        "billable": False,
        "pricing_model": "PMP",
        "category": "service",
        "type": "free_customer_service",
    }
    await report(db, tenant, "delivered", "wamid.PRICE", pricing=pricing)
    assert (await tenant.message(message_id))["pricing"] == {
        **pricing,
        "cost": {"amount": "0", "currency": "USD"},
    }


async def inbound_event(provider_message_id: str, body: str, at: datetime) -> InboundMessage:
    return InboundMessage(
        provider_message_id=provider_message_id,
        sender="234 801 234 5678",
        timestamp=at,
        content_type="text",
        content={"body": body},
        profile_name="Ada",
    )


async def test_duplicate_inbound_delivery_is_stored_once(tenant: Tenant, db: Database) -> None:
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    for _ in range(2):
        async with db.transaction() as session:
            channel = await session.get(Channel, tenant.whatsapp)
            assert channel is not None
            await apply_event(session, channel, await inbound_event("wamid.IN1", "Hello", at))
    inbound = (await tenant.test.get("/v1/messages", params={"direction": "inbound"})).json()["data"]
    assert len(inbound) == 1
    assert inbound[0]["from"] == CUSTOMER
    window = await tenant.window()
    assert datetime.fromisoformat(window["last_inbound_at"]) == at
    contact = (await tenant.test.get("/v1/contacts", params={"address": CUSTOMER})).json()["data"][0]
    assert contact["name"] == "Ada"


async def test_duplicate_inbound_returns_nothing_the_second_time(tenant: Tenant, db: Database) -> None:
    at = datetime.now(UTC)
    async with db.transaction() as session:
        channel = await session.get(Channel, tenant.whatsapp)
        assert channel is not None
        first = await record_inbound(session, channel, await inbound_event("wamid.IN2", "Hi", at))
        again = await record_inbound(session, channel, await inbound_event("wamid.IN2", "Hi", at))
    assert first is not None
    assert again is None


async def test_opt_out_keywords_are_recognised_loosely(tenant: Tenant, db: Database) -> None:
    for index, body in enumerate((" stop! ", "Unsubscribe.")):
        async with db.transaction() as session:
            channel = await session.get(Channel, tenant.whatsapp)
            assert channel is not None
            await record_inbound(
                session, channel, await inbound_event(f"wamid.KW{index}", body, datetime.now(UTC))
            )
        assert_error(await tenant.send(), 409, "recipient_opted_out")
        contact_id = await tenant.contact_id()
        await tenant.test.delete(f"/v1/contacts/{contact_id}/opt-outs/{tenant.whatsapp}")
        assert (await tenant.send()).status_code == 202
