"""Every state change leaves an event, written with the change; the window's reminder
and closing fire on the test clock and move when the customer writes again."""

from typing import Any

from omniroute.core.db import Database
from tests.conftest import CUSTOMER, Tenant, assert_error, eventually, settled

HOUR = 3600.0


async def events_of(tenant: Tenant, **filters: str) -> list[dict[str, Any]]:
    response = await tenant.test.get("/v1/logs", params={"kind": "event", "limit": 200, **filters})
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


async def types_of(tenant: Tenant, **filters: str) -> list[str]:
    return [e["type"] for e in reversed(await events_of(tenant, **filters))]


async def test_every_status_of_a_sent_message_is_an_event(tenant: Tenant) -> None:
    await tenant.inbound()
    sent = (await tenant.send()).json()
    await tenant.wait_for(sent["id"], "read")
    found = await eventually(lambda: events_of(tenant, message_id=sent["id"]), lambda e: len(e) == 4)
    assert [e["type"] for e in reversed(found)] == [
        "message.queued",
        "message.sent",
        "message.delivered",
        "message.read",
    ]
    for event in found:
        assert event["data"]["id"] == sent["id"]
        assert event["data"]["status"] == event["type"].removeprefix("message.")
        assert event["data"]["from"] == sent["from"]
        assert event["message_id"] == sent["id"] and event["channel_id"] == tenant.whatsapp


async def test_a_failed_message_event_carries_the_error(tenant: Tenant) -> None:
    undeliverable = "+2348012340001"
    await tenant.inbound(undeliverable)
    sent = (await tenant.send(undeliverable)).json()
    await tenant.wait_for(sent["id"], "failed")
    [failed] = await eventually(
        lambda: events_of(tenant, message_id=sent["id"], type="message.failed"), lambda e: len(e) == 1
    )
    assert failed["data"]["status"] == "failed"
    assert failed["data"]["error"]["provider_code"] == 131026


async def test_a_customer_message_opens_the_window_and_is_received(tenant: Tenant) -> None:
    message = (await tenant.inbound()).json()["message"]
    assert await types_of(tenant) == ["conversation.window_opened", "message.received"]
    opened, received = reversed(await events_of(tenant))
    assert received["data"]["id"] == message["id"] and received["data"]["direction"] == "inbound"
    assert opened["data"]["window"]["state"] == "open"
    assert opened["data"]["contact"]["address"] == CUSTOMER
    await tenant.inbound(body="again")
    assert await types_of(tenant, type="conversation.window_opened") == ["conversation.window_opened"]


async def test_only_whatsapp_conversations_have_window_events(tenant: Tenant) -> None:
    await tenant.inbound(channel_id=tenant.sms)
    assert await types_of(tenant) == ["message.received"]


async def test_a_refused_send_leaves_no_event(tenant: Tenant) -> None:
    assert_error(await tenant.send(), 409, "window_closed")
    assert await events_of(tenant) == []


async def test_the_window_reminder_and_close_follow_the_test_clock(tenant: Tenant, db: Database) -> None:
    await tenant.inbound()
    await tenant.advance_clock(22.5 * HOUR)
    await settled(db, tenant.workspace_id)
    assert "conversation.window_expiring" not in await types_of(tenant)
    await tenant.advance_clock(0.75 * HOUR)
    [expiring] = await eventually(
        lambda: events_of(tenant, type="conversation.window_expiring"), lambda e: len(e) == 1
    )
    assert expiring["data"]["window"]["state"] == "open"
    await tenant.advance_clock(HOUR)
    [closed] = await eventually(
        lambda: events_of(tenant, type="conversation.window_closed"), lambda e: len(e) == 1
    )
    assert closed["data"]["window"]["state"] == "closed"
    assert closed["occurred_at"] == closed["data"]["window"]["expires_at"]


async def test_a_new_customer_message_moves_the_timers(tenant: Tenant, db: Database) -> None:
    await tenant.inbound()
    await tenant.advance_clock(20 * HOUR)
    await tenant.inbound(body="one more thing")
    await tenant.advance_clock(4.5 * HOUR)  # past the first window's reminder and expiry
    await settled(db, tenant.workspace_id)
    assert await types_of(tenant, type="conversation.window_expiring") == []
    assert await types_of(tenant, type="conversation.window_closed") == []
    await tenant.advance_clock(19 * HOUR)  # 23.5 h after the second message
    await eventually(lambda: types_of(tenant, type="conversation.window_expiring"), lambda t: len(t) == 1)
    await tenant.advance_clock(HOUR)
    await eventually(lambda: types_of(tenant, type="conversation.window_closed"), lambda t: len(t) == 1)
    await settled(db, tenant.workspace_id)
    assert len(await types_of(tenant, type="conversation.window_expiring")) == 1


async def test_the_reminder_lead_is_a_workspace_setting(tenant: Tenant) -> None:
    default = (await tenant.test.get("/v1/workspace")).json()
    assert default["window_expiring_lead_seconds"] == 3600 and default["window_expiring_lead_is_default"]
    changed = await tenant.test.patch("/v1/workspace", json={"window_expiring_lead_seconds": 3 * 3600})
    assert changed.status_code == 200, changed.text
    assert changed.json()["window_expiring_lead_seconds"] == 3 * 3600
    await tenant.inbound()
    await tenant.advance_clock(21.5 * HOUR)
    await eventually(lambda: types_of(tenant, type="conversation.window_expiring"), lambda t: len(t) == 1)
    too_long = await tenant.test.patch("/v1/workspace", json={"window_expiring_lead_seconds": 86400})
    assert_error(too_long, 422, "parameter_invalid", param="window_expiring_lead_seconds")
    reset = await tenant.test.patch("/v1/workspace", json={"window_expiring_lead_seconds": None})
    assert reset.json()["window_expiring_lead_is_default"] is True


async def test_the_reminder_lead_is_set_per_mode(tenant: Tenant) -> None:
    changed = await tenant.test.patch("/v1/workspace", json={"window_expiring_lead_seconds": 2 * 3600})
    assert changed.status_code == 200, changed.text
    assert changed.json()["mode"] == "test"
    live = (await tenant.live.get("/v1/workspace")).json()
    assert (live["mode"], live["window_expiring_lead_seconds"]) == ("live", 3600)
    assert live["window_expiring_lead_is_default"] is True
