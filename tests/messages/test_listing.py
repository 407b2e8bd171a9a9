"""GET /v1/messages: filters and cursor pagination."""

from tests.conftest import CUSTOMER, Tenant


async def test_messages_are_listed_newest_first_with_a_cursor(tenant: Tenant) -> None:
    await tenant.inbound()
    sent = [(await tenant.send(reference=f"page-{i}")).json()["id"] for i in range(5)]
    first = (await tenant.test.get("/v1/messages", params={"limit": 2, "direction": "outbound"})).json()
    assert [m["id"] for m in first["data"]] == sent[::-1][:2]
    assert first["has_more"] is True
    assert first["next_cursor"] == sent[3]

    rest = (
        await tenant.test.get(
            "/v1/messages",
            params={"limit": 10, "direction": "outbound", "starting_after": first["next_cursor"]},
        )
    ).json()
    assert [m["id"] for m in rest["data"]] == sent[::-1][2:]
    assert rest["has_more"] is False
    assert rest["next_cursor"] is None


async def test_messages_can_be_found_by_reference(tenant: Tenant) -> None:
    await tenant.inbound()
    wanted = (await tenant.send(reference="order-1")).json()
    await tenant.send(reference="order-2")
    found = (await tenant.test.get("/v1/messages", params={"reference": "order-1"})).json()["data"]
    assert [m["id"] for m in found] == [wanted["id"]]


async def test_messages_can_be_filtered_by_channel_direction_contact_and_status(tenant: Tenant) -> None:
    inbound = (await tenant.inbound()).json()["message"]
    whatsapp = (await tenant.send()).json()
    sms = (await tenant.send(channel_id=tenant.sms)).json()
    await tenant.send("+2348012349999", channel_id=tenant.sms)
    await tenant.wait_for(whatsapp["id"], "read")

    def ids(response: dict) -> set[str]:
        return {m["id"] for m in response["data"]}

    by_channel = (await tenant.test.get("/v1/messages", params={"channel_id": tenant.whatsapp})).json()
    assert ids(by_channel) == {inbound["id"], whatsapp["id"]}
    by_direction = (await tenant.test.get("/v1/messages", params={"direction": "inbound"})).json()
    assert ids(by_direction) == {inbound["id"]}
    by_contact = (await tenant.test.get("/v1/messages", params={"contact": CUSTOMER})).json()
    assert ids(by_contact) == {inbound["id"], whatsapp["id"], sms["id"]}
    by_contact_id = (await tenant.test.get("/v1/messages", params={"contact": whatsapp["contact_id"]})).json()
    assert ids(by_contact_id) == ids(by_contact)
    read = (
        await tenant.test.get("/v1/messages", params={"status": "read", "channel_id": tenant.whatsapp})
    ).json()
    assert ids(read) == {whatsapp["id"]}


async def test_listed_messages_omit_the_status_history(tenant: Tenant) -> None:
    await tenant.inbound()
    await tenant.send()
    listed = (await tenant.test.get("/v1/messages", params={"direction": "outbound"})).json()["data"]
    assert "status_history" not in listed[0]
    assert "status_history" in await tenant.message(listed[0]["id"])
