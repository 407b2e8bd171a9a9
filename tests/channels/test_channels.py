"""Channels: the ready sandbox channels of test mode, and managing channels."""

import pytest

from tests.conftest import Tenant, assert_error, ts


async def test_test_mode_has_a_ready_sandbox_whatsapp_channel(tenant: Tenant) -> None:
    response = await tenant.test.get("/v1/channels", params={"type": "whatsapp"})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["has_more"] is False
    assert page["next_cursor"] is None
    [channel] = page["data"]
    assert channel["id"] == tenant.whatsapp
    assert channel["id"].startswith("ch_")
    assert channel["type"] == "whatsapp"
    assert channel["provider"] == "sandbox"
    assert channel["status"] == "active"
    assert channel["address"].startswith("+")
    assert channel["throughput_per_second"] > 0
    assert channel["messaging_tier"]
    assert channel["quality_rating"]
    assert channel["name"]
    assert ts(channel["created_at"])


async def test_test_mode_has_one_ready_channel_of_each_type(tenant: Tenant) -> None:
    channels = (await tenant.test.get("/v1/channels")).json()["data"]
    assert sorted(c["type"] for c in channels) == ["email", "sms", "web", "whatsapp"]
    assert all(c["provider"] == "sandbox" and c["status"] == "active" for c in channels)


async def test_type_filter_only_returns_that_type(tenant: Tenant) -> None:
    sms = (await tenant.test.get("/v1/channels", params={"type": "sms"})).json()["data"]
    assert [c["id"] for c in sms] == [tenant.sms]


async def test_unknown_type_filter_is_a_validation_error(tenant: Tenant) -> None:
    response = await tenant.test.get("/v1/channels", params={"type": "pigeon"})
    assert_error(response, 422, "parameter_invalid", param="type")


async def test_channel_can_be_fetched_by_id(tenant: Tenant) -> None:
    response = await tenant.test.get(f"/v1/channels/{tenant.whatsapp}")
    assert response.status_code == 200
    assert response.json()["id"] == tenant.whatsapp


async def test_unknown_channel_is_not_found(tenant: Tenant) -> None:
    error = assert_error(await tenant.test.get("/v1/channels/ch_nope"), 404, "resource_not_found")
    assert error["type"] == "not_found_error"


async def test_sandbox_channel_can_be_created_with_secrets_masked(tenant: Tenant) -> None:
    response = await tenant.test.post(
        "/v1/channels",
        json={
            "type": "whatsapp",
            "name": "Support line",
            "provider": "sandbox",
            "config": {"access_token": "EAAG-very-secret-9876", "phone_number_id": "1234"},
        },
    )
    assert response.status_code == 201, response.text
    channel = response.json()
    assert channel["name"] == "Support line"
    assert channel["config"]["access_token"] == "****9876"
    assert channel["config"]["phone_number_id"] == "1234"
    fetched = (await tenant.test.get(f"/v1/channels/{channel['id']}")).json()
    assert "EAAG-very-secret-9876" not in str(fetched)


async def test_unsupported_provider_is_refused(tenant: Tenant) -> None:
    response = await tenant.test.post(
        "/v1/channels", json={"type": "whatsapp", "name": "x", "provider": "carrier-pigeon"}
    )
    assert_error(response, 422, "provider_unsupported", param="provider")


@pytest.mark.parametrize(
    ("channel_type", "address"),
    [
        ("whatsapp", "not a phone"),
        ("whatsapp", "ACME"),
        ("sms", "not a phone"),
        ("sms", "+12"),
        ("sms", "TWELVECHARS1"),
    ],
)
async def test_a_whatsapp_or_sms_address_that_is_no_phone_number_is_refused(
    tenant: Tenant, channel_type: str, address: str
) -> None:
    response = await tenant.test.post(
        "/v1/channels", json={"type": channel_type, "name": "Line", "provider": "sandbox", "address": address}
    )
    assert_error(response, 422, "invalid_address", param="address")


@pytest.mark.parametrize(
    ("channel_type", "address", "stored"),
    [
        ("whatsapp", "0044 20 7946 0958", "+442079460958"),
        ("sms", "+2348012345678", "+2348012345678"),
        ("sms", "ACME", "ACME"),
    ],
)
async def test_a_phone_number_is_stored_in_e164_and_sms_may_use_a_sender_id(
    tenant: Tenant, channel_type: str, address: str, stored: str
) -> None:
    response = await tenant.test.post(
        "/v1/channels", json={"type": channel_type, "name": "Line", "provider": "sandbox", "address": address}
    )
    assert response.status_code == 201, response.text
    assert response.json()["address"] == stored


async def test_disabled_channel_refuses_sends_until_enabled_again(tenant: Tenant) -> None:
    await tenant.inbound()
    disabled = await tenant.test.patch(f"/v1/channels/{tenant.whatsapp}", json={"status": "disabled"})
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["status"] == "disabled"
    error = assert_error(await tenant.send(), 409, "channel_unavailable", param="channel_id")
    assert error["details"]["status"] == "disabled"

    await tenant.test.patch(f"/v1/channels/{tenant.whatsapp}", json={"status": "active"})
    assert (await tenant.send()).status_code == 202


async def test_channel_can_be_renamed(tenant: Tenant) -> None:
    renamed = await tenant.test.patch(f"/v1/channels/{tenant.sms}", json={"name": "Alerts"})
    assert renamed.json()["name"] == "Alerts"
    assert (await tenant.test.get(f"/v1/channels/{tenant.sms}")).json()["name"] == "Alerts"


async def test_deleted_channel_is_gone(tenant: Tenant) -> None:
    created = (
        await tenant.test.post("/v1/channels", json={"type": "sms", "name": "Temp", "provider": "sandbox"})
    ).json()
    deleted = await tenant.test.delete(f"/v1/channels/{created['id']}")
    assert deleted.status_code == 204
    assert deleted.headers["x-request-id"].startswith("req_")
    assert_error(await tenant.test.get(f"/v1/channels/{created['id']}"), 404, "resource_not_found")
    listed = (await tenant.test.get("/v1/channels")).json()["data"]
    assert created["id"] not in {c["id"] for c in listed}
    assert_error(await tenant.send(channel_id=created["id"]), 404, "resource_not_found", param="channel_id")
