"""POST /v1/sandbox/inbound: a customer message arrives as if from the network."""

from datetime import timedelta

from omniroute.core.db import Database
from tests.conftest import CUSTOMER, Tenant, assert_error, settled, ts

DAY = timedelta(hours=24)


async def test_customer_message_is_stored_as_a_received_inbound_message(tenant: Tenant) -> None:
    response = await tenant.inbound(body="Where is my order?")
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["duplicate"] is False
    message = result["message"]
    assert message["id"].startswith("msg_")
    assert message["direction"] == "inbound"
    assert message["status"] == "received"
    assert message["from"] == CUSTOMER
    assert message["channel_id"] == tenant.whatsapp
    assert message["text"]["body"] == "Where is my order?"
    assert (await tenant.message(message["id"]))["status_history"][0]["status"] == "received"


async def test_customer_message_opens_the_window_for_24_hours_from_its_timestamp(tenant: Tenant) -> None:
    now = ts((await tenant.test.get("/v1/sandbox/clock")).json()["now"])
    sent_at = (now - timedelta(hours=3)).replace(microsecond=0)
    opened = (await tenant.inbound(timestamp=sent_at.isoformat())).json()
    assert opened["window"]["state"] == "open"
    assert ts(opened["window"]["last_inbound_at"]) == sent_at
    assert ts(opened["window"]["expires_at"]) == sent_at + DAY

    window = await tenant.window()
    assert window == opened["window"]
    assert ts(window["expires_at"]) - ts(window["last_inbound_at"]) == DAY


async def test_timestamp_with_any_offset_is_accepted_and_answered_in_utc(tenant: Tenant) -> None:
    now = ts((await tenant.test.get("/v1/sandbox/clock")).json()["now"])
    sent_at = (now - timedelta(hours=1)).replace(microsecond=0).isoformat().replace("+00:00", "+01:00")
    response = await tenant.inbound(timestamp=sent_at)
    assert response.status_code == 201, response.text
    window = response.json()["window"]
    assert window["last_inbound_at"].endswith("Z")
    assert window["expires_at"].endswith("Z")
    assert ts(window["last_inbound_at"]) == ts(sent_at)
    assert (await tenant.window()) == window


async def test_timestamp_without_a_time_zone_is_refused(tenant: Tenant) -> None:
    response = await tenant.inbound(timestamp="2025-01-01T10:00:00")
    assert_error(response, 422, "parameter_invalid", param="timestamp")


async def test_timestamp_in_the_future_is_refused(tenant: Tenant) -> None:
    now = ts((await tenant.test.get("/v1/sandbox/clock")).json()["now"])
    response = await tenant.inbound(timestamp=(now + timedelta(minutes=5)).isoformat())
    assert_error(response, 422, "parameter_invalid", param="timestamp")
    assert (await tenant.window())["state"] == "closed"


async def test_late_customer_message_never_moves_the_window_backwards(tenant: Tenant) -> None:
    now = ts((await tenant.test.get("/v1/sandbox/clock")).json()["now"])
    latest = (now - timedelta(hours=1)).replace(microsecond=0)
    await tenant.inbound(timestamp=latest.isoformat())

    late = await tenant.inbound(
        body="sent earlier, arrived late", timestamp=(latest - timedelta(hours=10)).isoformat()
    )
    assert late.status_code == 201
    assert ts(late.json()["window"]["last_inbound_at"]) == latest
    window = await tenant.window()
    assert ts(window["last_inbound_at"]) == latest
    assert ts(window["expires_at"]) == latest + DAY


async def test_late_customer_message_from_before_an_expired_window_does_not_reopen_it(tenant: Tenant) -> None:
    now = ts((await tenant.test.get("/v1/sandbox/clock")).json()["now"])
    await tenant.inbound(timestamp=(now - timedelta(hours=30)).isoformat())
    assert (await tenant.window())["state"] == "closed"
    await tenant.inbound(timestamp=(now - timedelta(hours=40)).isoformat())
    assert (await tenant.window())["state"] == "closed"
    assert_error(await tenant.send(), 409, "window_closed")


async def test_newer_customer_message_restarts_the_24_hours(tenant: Tenant) -> None:
    now = ts((await tenant.test.get("/v1/sandbox/clock")).json()["now"])
    first = (now - timedelta(hours=20)).replace(microsecond=0)
    second = (now - timedelta(hours=2)).replace(microsecond=0)
    await tenant.inbound(timestamp=first.isoformat())
    await tenant.inbound(timestamp=second.isoformat())
    window = await tenant.window()
    assert ts(window["expires_at"]) == second + DAY


async def test_customer_message_with_the_same_timestamp_changes_nothing(tenant: Tenant) -> None:
    now = ts((await tenant.test.get("/v1/sandbox/clock")).json()["now"])
    sent_at = (now - timedelta(hours=1)).replace(microsecond=0).isoformat()
    first = (await tenant.inbound(timestamp=sent_at)).json()
    again = (await tenant.inbound(timestamp=sent_at)).json()
    assert again["window"] == first["window"]


async def test_repeated_delivery_of_the_same_inbound_is_stored_once(tenant: Tenant, db: Database) -> None:
    payload = {"channel_id": tenant.whatsapp, "from": CUSTOMER, "text": {"body": "Hello"}}
    headers = {"Idempotency-Key": "inbound-1"}
    first = await tenant.test.post("/v1/sandbox/inbound", json=payload, headers=headers)
    again = await tenant.test.post("/v1/sandbox/inbound", json=payload, headers=headers)
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    inbound = (await tenant.test.get("/v1/messages", params={"direction": "inbound"})).json()["data"]
    assert [m["id"] for m in inbound] == [first.json()["message"]["id"]]
    await settled(db, tenant.workspace_id)


async def test_inbound_from_an_unparseable_number_is_refused(tenant: Tenant) -> None:
    assert_error(await tenant.inbound("not-a-number"), 422, "invalid_recipient", param="from")
    assert_error(await tenant.inbound("+12"), 422, "invalid_recipient", param="from")


async def test_inbound_on_an_unknown_channel_is_not_found(tenant: Tenant) -> None:
    assert_error(await tenant.inbound(channel_id="ch_nope"), 404, "resource_not_found", param="channel_id")


async def test_inbound_without_text_is_a_validation_error(tenant: Tenant) -> None:
    response = await tenant.test.post(
        "/v1/sandbox/inbound", json={"channel_id": tenant.whatsapp, "from": CUSTOMER}
    )
    assert_error(response, 422, "parameter_missing", param="text")


async def test_customer_arriving_from_an_ad_gets_a_free_entry_point(tenant: Tenant) -> None:
    opened = await tenant.inbound(referral={"source_type": "ad", "source_id": "120200"})
    assert opened.status_code == 201, opened.text
    sent_at = ts(opened.json()["window"]["last_inbound_at"])
    conversations = (
        await tenant.test.get(
            "/v1/conversations", params={"channel_id": tenant.whatsapp, "contact": CUSTOMER}
        )
    ).json()["data"]
    assert ts(conversations[0]["entry_point"]["free_until"]) == sent_at + timedelta(hours=72)
