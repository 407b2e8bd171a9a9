"""Sending limits against abuse: at most 5 codes per destination in 10 minutes, a
cooldown between two, a per-workspace country allow-list for SMS and a velocity guard
per number prefix (SMS pumping). All on the test clock in test mode."""

import pytest

from omniroute.config import Settings
from tests.conftest import Tenant, assert_error
from tests.verifications.support import PHONE, send_code


async def test_a_second_code_within_the_cooldown_is_429_with_retry_after(
    tenant: Tenant, settings: Settings
) -> None:
    await send_code(tenant.test)
    await tenant.advance_clock(10)
    response = await tenant.test.post("/v1/verifications", json={"to": PHONE, "channels": ["sms"]})
    error = assert_error(response, 429, "rate_limited", param="to", error_type="rate_limit_error")
    cooldown = settings.verification_resend_cooldown_seconds
    # The test clock also runs in real time: a second or two may have passed since.
    assert error["details"]["reason"] == "resend_cooldown"
    assert cooldown - 12 <= error["details"]["retry_after"] <= cooldown - 10

    await tenant.advance_clock(error["details"]["retry_after"])
    await send_code(tenant.test)


async def test_at_most_five_codes_per_destination_in_ten_minutes(tenant: Tenant, settings: Settings) -> None:
    cooldown = settings.verification_resend_cooldown_seconds
    for _ in range(5):
        await send_code(tenant.test)
        await tenant.advance_clock(cooldown)
    response = await tenant.test.post("/v1/verifications", json={"to": PHONE, "channels": ["sms"]})
    error = assert_error(response, 429, "rate_limited")
    # The oldest of the five leaves the 10-minute window 600 - 5 * cooldown seconds from now.
    assert error["details"]["reason"] == "destination_limit"
    assert 600 - 5 * cooldown - 5 <= error["details"]["retry_after"] <= 600 - 5 * cooldown
    other = await tenant.test.post("/v1/verifications", json={"to": "+2348012345679", "channels": ["sms"]})
    assert other.status_code == 201, other.text

    await tenant.advance_clock(error["details"]["retry_after"])
    await send_code(tenant.test)


async def test_sms_only_goes_to_allowed_countries(tenant: Tenant) -> None:
    patched = await tenant.test.patch(
        "/v1/verifications/settings", json={"sms_allowed_countries": ["gh", "KE"]}
    )
    assert patched.json()["sms_allowed_countries"] == ["GH", "KE"], patched.text

    refused = await tenant.test.post("/v1/verifications", json={"to": PHONE, "channels": ["sms"]})
    error = assert_error(refused, 409, "country_not_allowed", param="to")
    assert (error["details"]["country"], error["details"]["allowed"]) == ("NG", ["GH", "KE"])

    ghana = await send_code(tenant.test, to="+233241234567")
    assert ghana["channel"] == "sms"

    # With another channel after it, SMS is skipped (and says why) and the code goes by email.
    mixed = await send_code(tenant.test, channels=["sms", "email"], email="ada@example.com")
    assert [(a["channel"], a["status"]) for a in mixed["attempts"]] == [
        ("sms", "skipped"),
        ("email", "queued"),
    ]
    assert mixed["attempts"][0]["error"]["code"] == "country_not_allowed"

    cleared = await tenant.test.patch("/v1/verifications/settings", json={"sms_allowed_countries": None})
    assert cleared.json()["sms_allowed_countries"] is None
    await tenant.advance_clock(60)
    assert (await send_code(tenant.test))["channel"] == "sms"


async def test_many_codes_to_one_number_prefix_trip_the_pumping_guard(
    tenant: Tenant, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "verification_sms_prefix_per_hour", 3)
    for last in range(3):
        await send_code(tenant.test, to=f"+23480123456{last:02d}")
    refused = await tenant.test.post("/v1/verifications", json={"to": "+2348012345699", "channels": ["sms"]})
    error = assert_error(refused, 429, "rate_limited")
    assert error["details"]["reason"] == "sms_prefix_velocity"
    assert 0 < error["details"]["retry_after"] <= 3600
    elsewhere = await tenant.test.post(
        "/v1/verifications", json={"to": "+2348031234567", "channels": ["sms"]}
    )
    assert elsewhere.status_code == 201, elsewhere.text

    await tenant.advance_clock(error["details"]["retry_after"])
    await send_code(tenant.test, to="+2348012345699")


async def test_a_bad_country_code_is_422(tenant: Tenant) -> None:
    response = await tenant.test.patch(
        "/v1/verifications/settings", json={"sms_allowed_countries": ["Nigeria"]}
    )
    assert response.status_code == 422, response.text
