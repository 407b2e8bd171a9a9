"""Checking a code: single use, at most 5 checks (then even the right code is refused),
expiry on the test clock, check by destination, cancel."""

from omniroute.config import Settings
from tests.conftest import Tenant, assert_error
from tests.verifications.support import PHONE, check, fetch, send_code


def wrong(code: str) -> str:
    return str((int(code) + 1) % 10 ** len(code)).zfill(len(code))


async def test_the_right_code_approves_once(tenant: Tenant) -> None:
    created = await send_code(tenant.test)
    assert (created["status"], created["checks_left"], len(created["test_code"])) == ("pending", 5, 6)

    approved = await check(tenant.test, created["id"], created["test_code"])
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["valid"]) == ("approved", True)

    again = await check(tenant.test, created["id"], created["test_code"])
    assert_error(again, 409, "verification_already_approved", param="code")
    shown = await fetch(tenant.test, created["id"])
    assert shown["status"] == "approved" and shown["approved_at"] is not None


async def test_five_wrong_codes_lock_it_and_the_right_code_is_refused_after(tenant: Tenant) -> None:
    created = await send_code(tenant.test)
    left = []
    for _ in range(5):
        response = await check(tenant.test, created["id"], wrong(created["test_code"]))
        assert response.status_code == 200, response.text
        assert response.json()["valid"] is False
        left.append((response.json()["status"], response.json()["checks_left"]))
    assert left == [
        ("pending", 4),
        ("pending", 3),
        ("pending", 2),
        ("pending", 1),
        ("max_attempts_reached", 0),
    ]

    right = await check(tenant.test, created["id"], created["test_code"])
    assert (right.json()["status"], right.json()["valid"]) == ("max_attempts_reached", False)


async def test_a_code_expires_on_the_test_clock(tenant: Tenant) -> None:
    created = await send_code(tenant.test, ttl_seconds=120)
    await tenant.advance_clock(121)
    response = await check(tenant.test, created["id"], created["test_code"])
    assert (response.json()["status"], response.json()["valid"]) == ("expired", False)
    assert (await fetch(tenant.test, created["id"]))["status"] == "expired"


async def test_a_code_is_good_until_its_expiry(tenant: Tenant) -> None:
    created = await send_code(tenant.test, ttl_seconds=120)
    await tenant.advance_clock(110)
    response = await check(tenant.test, created["id"], created["test_code"])
    assert response.json()["status"] == "approved"


async def test_check_by_destination_uses_the_latest_code(tenant: Tenant, settings: Settings) -> None:
    first = await send_code(tenant.test)
    await tenant.advance_clock(settings.verification_resend_cooldown_seconds)
    second = await send_code(tenant.test)
    assert (await fetch(tenant.test, first["id"]))["status"] == "canceled"  # one live code per destination

    old = await tenant.test.post("/v1/verifications/check", json={"to": PHONE, "code": first["test_code"]})
    if first["test_code"] != second["test_code"]:
        assert old.json()["valid"] is False
    response = await tenant.test.post(
        "/v1/verifications/check", json={"to": "+234 801 234 5678", "code": second["test_code"]}
    )
    assert (response.json()["id"], response.json()["status"]) == (second["id"], "approved")


async def test_unknown_destination_and_id_are_404(tenant: Tenant) -> None:
    missing = await tenant.test.post(
        "/v1/verifications/check", json={"to": "+2348099999999", "code": "123456"}
    )
    assert_error(missing, 404, "verification_not_found", param="to")
    assert_error(await check(tenant.test, "otp_nope", "123456"), 404, "verification_not_found")


async def test_cancel_then_the_code_is_refused(tenant: Tenant) -> None:
    created = await send_code(tenant.test)
    canceled = await tenant.test.post(f"/v1/verifications/{created['id']}/cancel")
    assert canceled.json()["status"] == "canceled", canceled.text
    response = await check(tenant.test, created["id"], created["test_code"])
    assert (response.json()["status"], response.json()["valid"]) == ("canceled", False)
    assert_error(
        await tenant.test.post(f"/v1/verifications/{created['id']}/cancel"), 409, "verification_not_pending"
    )


async def test_a_live_key_does_not_see_test_verifications(tenant: Tenant) -> None:
    created = await send_code(tenant.test)
    assert_error(await tenant.live.get(f"/v1/verifications/{created['id']}"), 404, "verification_not_found")
    assert_error(await check(tenant.live, created["id"], created["test_code"]), 404, "verification_not_found")


async def test_bad_input_names_the_field(tenant: Tenant) -> None:
    cases = [
        ({"to": "nonsense", "channels": ["sms"]}, 422, "invalid_recipient", "to"),
        ({"to": PHONE, "channels": ["email"]}, 422, "parameter_missing", "email"),
        ({"to": "ada@example.com", "channels": ["sms"]}, 422, "channel_type_unsupported", "channels[0]"),
    ]
    for body, status, code, param in cases:
        assert_error(await tenant.test.post("/v1/verifications", json=body), status, code, param=param)
    for body in (
        {"to": PHONE, "code_length": 3},
        {"to": PHONE, "ttl_seconds": 30},
        {"to": PHONE, "channels": ["fax"]},
    ):
        response = await tenant.test.post("/v1/verifications", json=body)
        assert response.status_code == 422, response.text
