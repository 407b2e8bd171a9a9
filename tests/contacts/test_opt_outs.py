"""Opting contacts out of (and back in to) a channel through the API."""

from tests.conftest import CUSTOMER, Tenant, assert_error


async def test_contact_opted_out_via_api_cannot_be_messaged_on_that_channel(tenant: Tenant) -> None:
    await tenant.inbound()
    contact_id = await tenant.contact_id()
    opted = await tenant.test.post(
        f"/v1/contacts/{contact_id}/opt-outs", json={"channel_id": tenant.whatsapp}
    )
    assert opted.status_code == 201, opted.text
    assert [(o["channel_id"], o["source"]) for o in opted.json()["opt_outs"]] == [(tenant.whatsapp, "api")]

    error = assert_error(
        await tenant.send(), 409, "recipient_opted_out", param="to", error_type="policy_error"
    )
    assert error["details"]["source"] == "api"


async def test_opting_back_in_allows_messages_again(tenant: Tenant) -> None:
    await tenant.inbound()
    contact_id = await tenant.contact_id()
    await tenant.test.post(f"/v1/contacts/{contact_id}/opt-outs", json={"channel_id": tenant.whatsapp})
    assert_error(await tenant.send(), 409, "recipient_opted_out")

    opted_in = await tenant.test.delete(f"/v1/contacts/{contact_id}/opt-outs/{tenant.whatsapp}")
    assert opted_in.status_code == 200, opted_in.text
    assert opted_in.json()["opt_outs"] == []
    response = await tenant.send()
    assert response.status_code == 202, response.text


async def test_opt_out_is_per_channel(tenant: Tenant) -> None:
    await tenant.inbound()
    contact_id = await tenant.contact_id()
    await tenant.test.post(f"/v1/contacts/{contact_id}/opt-outs", json={"channel_id": tenant.whatsapp})
    assert_error(await tenant.send(), 409, "recipient_opted_out")
    assert (await tenant.send(channel_id=tenant.sms)).status_code == 202


async def test_opting_out_twice_keeps_one_opt_out(tenant: Tenant) -> None:
    await tenant.inbound()
    contact_id = await tenant.contact_id()
    for _ in range(2):
        response = await tenant.test.post(
            f"/v1/contacts/{contact_id}/opt-outs", json={"channel_id": tenant.whatsapp}
        )
        assert response.status_code == 201, response.text
    assert len(response.json()["opt_outs"]) == 1


async def test_opting_in_a_contact_who_never_opted_out_changes_nothing(tenant: Tenant) -> None:
    await tenant.inbound()
    contact_id = await tenant.contact_id()
    response = await tenant.test.delete(f"/v1/contacts/{contact_id}/opt-outs/{tenant.whatsapp}")
    assert response.status_code == 200
    assert response.json()["opt_outs"] == []


async def test_opt_out_of_unknown_contact_or_channel_is_not_found(tenant: Tenant) -> None:
    await tenant.inbound()
    contact_id = await tenant.contact_id()
    assert_error(
        await tenant.test.post("/v1/contacts/ct_nope/opt-outs", json={"channel_id": tenant.whatsapp}),
        404,
        "resource_not_found",
    )
    assert_error(
        await tenant.test.post(f"/v1/contacts/{contact_id}/opt-outs", json={"channel_id": "ch_nope"}),
        404,
        "resource_not_found",
        param="channel_id",
    )


async def test_contacts_are_stored_once_in_e164(tenant: Tenant) -> None:
    await tenant.inbound("+234 801 234 5678")
    await tenant.send("002348012345678")
    contacts = (await tenant.test.get("/v1/contacts")).json()["data"]
    assert [c["address"] for c in contacts] == [CUSTOMER]
    fetched = await tenant.test.get(f"/v1/contacts/{contacts[0]['id']}")
    assert fetched.json()["address"] == CUSTOMER
