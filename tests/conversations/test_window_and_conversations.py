"""GET /v1/channels/{id}/window and the conversations that hold each window."""

from datetime import timedelta

import pytest

from tests.conftest import CUSTOMER, Tenant, assert_error, ts

DAY = timedelta(hours=24)


async def test_window_is_closed_for_a_recipient_never_seen(tenant: Tenant) -> None:
    window = await tenant.window("+2348099999999")
    assert window == {"state": "closed", "last_inbound_at": None, "expires_at": None}


async def test_window_is_closed_for_a_contact_who_was_only_messaged(tenant: Tenant) -> None:
    await tenant.send(channel_id=tenant.sms)
    assert (await tenant.window())["state"] == "closed"


async def test_window_accepts_the_recipient_in_any_common_form(tenant: Tenant) -> None:
    await tenant.inbound()
    for written in ("+234 801 234 5678", "002348012345678", "2348012345678"):
        assert (await tenant.window(written))["state"] == "open"


async def test_window_shows_expiry_24_hours_after_the_customer_message(tenant: Tenant) -> None:
    opened = (await tenant.inbound()).json()
    window = await tenant.window()
    assert window["state"] == "open"
    assert ts(window["expires_at"]) == ts(opened["message"]["created_at"]) + DAY


async def test_window_closes_after_the_clock_passes_24_hours(tenant: Tenant) -> None:
    await tenant.inbound()
    await tenant.advance_clock(90000)
    window = await tenant.window()
    assert window["state"] == "closed"
    assert ts(window["expires_at"]) == ts(window["last_inbound_at"]) + DAY


async def test_window_for_an_unparseable_recipient_is_refused(tenant: Tenant) -> None:
    response = await tenant.test.get(f"/v1/channels/{tenant.whatsapp}/window", params={"to": "hello"})
    assert_error(response, 422, "invalid_recipient", param="to")


async def test_window_needs_a_recipient(tenant: Tenant) -> None:
    response = await tenant.test.get(f"/v1/channels/{tenant.whatsapp}/window")
    assert_error(response, 422, "parameter_missing", param="to")


async def test_window_of_an_unknown_channel_is_not_found(tenant: Tenant) -> None:
    response = await tenant.test.get("/v1/channels/ch_nope/window", params={"to": CUSTOMER})
    assert_error(response, 404, "resource_not_found")


async def test_conversation_holds_the_window_and_the_contact(tenant: Tenant) -> None:
    opened = (await tenant.inbound()).json()
    listed = (await tenant.test.get("/v1/conversations", params={"channel_id": tenant.whatsapp})).json()
    [conversation] = listed["data"]
    assert conversation["id"].startswith("cv_")
    assert conversation["id"] == opened["message"]["conversation_id"]
    assert conversation["channel_id"] == tenant.whatsapp
    assert conversation["contact"]["address"] == CUSTOMER
    assert conversation["window"] == opened["window"]
    assert conversation["entry_point"] == {"free_until": None}
    assert conversation["last_message_at"]

    fetched = await tenant.test.get(f"/v1/conversations/{conversation['id']}")
    assert fetched.status_code == 200
    assert fetched.json()["window"]["state"] == "open"


async def test_conversation_window_closes_with_the_clock(tenant: Tenant) -> None:
    opened = (await tenant.inbound()).json()
    await tenant.advance_clock(90000)
    fetched = (await tenant.test.get(f"/v1/conversations/{opened['message']['conversation_id']}")).json()
    assert fetched["window"]["state"] == "closed"


async def test_conversations_can_be_filtered_by_contact(tenant: Tenant) -> None:
    await tenant.inbound(CUSTOMER)
    await tenant.inbound("+2348012345699")
    everyone = (await tenant.test.get("/v1/conversations")).json()["data"]
    assert len(everyone) == 2
    by_address = (await tenant.test.get("/v1/conversations", params={"contact": CUSTOMER})).json()["data"]
    assert [c["contact"]["address"] for c in by_address] == [CUSTOMER]
    contact_id = by_address[0]["contact"]["id"]
    by_id = (await tenant.test.get("/v1/conversations", params={"contact": contact_id})).json()["data"]
    assert [c["id"] for c in by_id] == [by_address[0]["id"]]


async def test_unknown_conversation_is_not_found(tenant: Tenant) -> None:
    assert_error(await tenant.test.get("/v1/conversations/cv_nope"), 404, "resource_not_found")


async def channel_of_type(tenant: Tenant, channel_type: str) -> str:
    [channel] = (await tenant.test.get("/v1/channels", params={"type": channel_type})).json()["data"]
    return str(channel["id"])


RECIPIENTS = {"sms": CUSTOMER, "email": "ada@example.com", "web": "vis_ada"}


@pytest.mark.parametrize("channel_type", ["sms", "email", "web"])
async def test_the_window_of_a_channel_without_one_is_refused(tenant: Tenant, channel_type: str) -> None:
    channel_id = await channel_of_type(tenant, channel_type)
    response = await tenant.test.get(
        f"/v1/channels/{channel_id}/window", params={"to": RECIPIENTS[channel_type]}
    )
    error = assert_error(response, 409, "window_not_applicable", param="channel_id")
    assert error["details"] == {"channel_type": channel_type}


@pytest.mark.parametrize("channel_type", ["sms", "email", "web"])
async def test_a_customer_writing_on_a_channel_without_windows_opens_none(
    tenant: Tenant, channel_type: str
) -> None:
    channel_id = await channel_of_type(tenant, channel_type)
    inbound = await tenant.inbound(RECIPIENTS[channel_type], channel_id=channel_id)
    assert inbound.status_code == 201, inbound.text
    assert inbound.json()["window"] is None
    [conversation] = (await tenant.test.get("/v1/conversations", params={"channel_id": channel_id})).json()[
        "data"
    ]
    assert conversation["window"] is None
    assert conversation["last_message_at"] == inbound.json()["message"]["created_at"]
    fetched = (await tenant.test.get(f"/v1/conversations/{conversation['id']}")).json()
    assert fetched["window"] is None
