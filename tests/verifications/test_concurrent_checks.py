"""A check is spent with one conditional UPDATE: of concurrent checks with the right
code exactly one approves, and no check is lost; concurrent sends to one destination
count each other (PostgreSQL: SQLite serialises writers)."""

import asyncio
from collections import Counter

import pytest

from tests.conftest import Tenant
from tests.verifications.support import check, fetch, send_code

pytestmark = pytest.mark.usefixtures("concurrent_writers")


async def test_two_checks_of_the_right_code_at_once_approve_exactly_one(tenant: Tenant) -> None:
    created = await send_code(tenant.test)
    responses = await asyncio.gather(
        *(check(tenant.test, created["id"], created["test_code"]) for _ in range(2))
    )
    assert Counter(r.status_code for r in responses) == {200: 1, 409: 1}, [r.text for r in responses]
    [winner] = [r.json() for r in responses if r.status_code == 200]
    assert (winner["status"], winner["valid"]) == ("approved", True)
    assert (await fetch(tenant.test, created["id"]))["status"] == "approved"


async def test_ten_racing_checks_approve_one_and_never_exceed_the_check_budget(tenant: Tenant) -> None:
    created = await send_code(tenant.test)
    wrong = "0" * 6 if created["test_code"] != "0" * 6 else "1" * 6
    codes = [created["test_code"]] * 3 + [wrong] * 7
    responses = await asyncio.gather(*(check(tenant.test, created["id"], code) for code in codes))
    assert all(r.status_code < 500 for r in responses), [r.text for r in responses]
    approvals = [r for r in responses if r.status_code == 200 and r.json()["valid"]]
    assert len(approvals) <= 1
    shown = await fetch(tenant.test, created["id"])
    assert shown["checks_left"] >= 0
    assert shown["status"] == ("approved" if approvals else "max_attempts_reached")


async def test_racing_sends_to_one_destination_send_one_code_and_refuse_the_rest(tenant: Tenant) -> None:
    body = {"to": "+2348031112222", "channels": ["sms"]}
    responses = await asyncio.gather(*(tenant.test.post("/v1/verifications", json=body) for _ in range(8)))
    assert Counter(r.status_code for r in responses) == {201: 1, 429: 7}, [r.text for r in responses]
    refused = [r.json()["error"] for r in responses if r.status_code == 429]
    assert {error["details"]["reason"] for error in refused} == {"resend_cooldown"}
