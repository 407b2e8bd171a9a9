"""Creating the same template many times at once: one is created, every other request
is a 409 (never a 500), whichever of them reaches the unique constraint first. The race
needs concurrent writers, which only PostgreSQL has (SQLite serialises writers)."""

import asyncio
from collections import Counter

import pytest

from tests.conftest import Tenant

pytestmark = pytest.mark.usefixtures("concurrent_writers")


async def test_concurrent_creates_of_one_template_make_one_and_refuse_the_rest(tenant: Tenant) -> None:
    responses = await asyncio.gather(*(tenant.create_template("race_update") for _ in range(20)))

    assert Counter(r.status_code for r in responses) == {201: 1, 409: 19}, [r.text for r in responses]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} <= {
        "template_exists",
        "concurrent_update",
    }
