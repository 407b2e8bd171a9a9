"""Opting a contact out is create-if-absent: the same opt-out requested many times at
once is one opt-out and every request succeeds."""

import asyncio
from collections import Counter

import pytest

from tests.conftest import Tenant

pytestmark = pytest.mark.usefixtures("concurrent_writers")


async def test_20_concurrent_opt_outs_of_one_contact_make_one(tenant: Tenant) -> None:
    await tenant.inbound()
    contact_id = await tenant.contact_id()

    responses = await asyncio.gather(
        *(
            tenant.test.post(f"/v1/contacts/{contact_id}/opt-outs", json={"channel_id": tenant.whatsapp})
            for _ in range(20)
        )
    )

    assert Counter(r.status_code for r in responses) == {201: 20}, [r.text for r in responses]
    contact = (await tenant.test.get(f"/v1/contacts/{contact_id}")).json()
    assert [o["channel_id"] for o in contact["opt_outs"]] == [tenant.whatsapp]
