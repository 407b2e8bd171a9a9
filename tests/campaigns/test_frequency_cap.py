"""The marketing frequency cap: a marketing campaign skips, with a reason, whoever got a
marketing message from the workspace within the workspace's cap, and counts them, in the
estimate too. Utility campaigns and other workspaces' messages do not count."""

from typing import Any

from omniroute.core.db import Database
from tests.campaigns.support import body, create, fetch, number, ok, recipients, recipients_of, until
from tests.conftest import Tenant, assert_error, settled


async def set_cap(tenant: Tenant, hours: int | None) -> dict[str, Any]:
    return ok(await tenant.test.patch("/v1/workspace", json={"marketing_frequency_cap_hours": hours}))


async def test_the_cap_is_a_per_mode_workspace_setting(tenant: Tenant) -> None:
    default = ok(await tenant.test.get("/v1/workspace"))
    assert (default["marketing_frequency_cap_hours"], default["marketing_frequency_cap_is_default"]) == (
        0,
        True,
    )
    changed = await set_cap(tenant, 24)
    assert (changed["marketing_frequency_cap_hours"], changed["marketing_frequency_cap_is_default"]) == (
        24,
        False,
    )
    live = ok(await tenant.live.get("/v1/workspace"))
    assert live["marketing_frequency_cap_hours"] == 0, "a test key's setting never changes live behaviour"
    restored = await set_cap(tenant, None)
    assert restored["marketing_frequency_cap_is_default"] is True
    too_long = await tenant.test.patch("/v1/workspace", json={"marketing_frequency_cap_hours": 10_000})
    assert_error(too_long, 422, "parameter_invalid", param="marketing_frequency_cap_hours")


async def test_a_marketing_campaign_skips_and_counts_who_got_marketing_within_the_cap(
    tenant: Tenant, make_tenant: Any, db: Database
) -> None:
    await tenant.approved_template("spring_sale", category="MARKETING")
    await tenant.approved_template("order_update")  # utility
    await set_cap(tenant, 24)
    marketing = {"template": {"name": "spring_sale", "language": "en"}}

    first = await create(tenant, recipients(2), **marketing)  # numbers 0 and 1
    await until(tenant, first["id"], "completed")
    utility = await create(tenant, recipients(1, start=2))  # number 2: utility does not count
    await until(tenant, utility["id"], "completed")

    later = recipients(4)  # numbers 0..3: 0 and 1 got marketing in the last 24 h
    estimate = ok(await tenant.test.post("/v1/campaigns/estimate", json=body(tenant, later, **marketing)))
    assert (estimate["valid"], estimate["frequency_capped"]) == (4, 2)
    assert sum(c["messages"] for c in estimate["cost_by_country"]) == 2, "capped ones are not priced"

    second = await create(tenant, later, **marketing)
    done = await until(tenant, second["id"], "completed")
    assert done["counts"]["sent"] == 2
    assert (done["counts"]["skipped"], done["counts"]["frequency_capped"]) == (2, 2)
    capped = await recipients_of(tenant, second["id"], "skipped")
    assert {(r["to"], r["reason"]) for r in capped} == {
        (number(0), "marketing_frequency_capped"),
        (number(1), "marketing_frequency_capped"),
    }
    assert all("24 hours" in r["detail"] for r in capped)

    # Another workspace's marketing is not "from us".
    other = await make_tenant()
    await other.approved_template("spring_sale", category="MARKETING")
    await set_cap(other, 24)
    elsewhere = ok(await other.test.post("/v1/campaigns/estimate", json=body(other, later, **marketing)))
    assert elsewhere["frequency_capped"] == 0

    # Past the cap, everyone can be reached again.
    await tenant.advance_clock(25 * 3600)
    again = ok(await tenant.test.post("/v1/campaigns/estimate", json=body(tenant, later, **marketing)))
    assert again["frequency_capped"] == 0
    await settled(db, tenant.workspace_id)


async def test_without_a_cap_nobody_is_skipped_for_it(tenant: Tenant) -> None:
    await tenant.approved_template("spring_sale", category="MARKETING")
    marketing = {"template": {"name": "spring_sale", "language": "en"}}
    first = await create(tenant, recipients(1), **marketing)
    await until(tenant, first["id"], "completed")
    second = await create(tenant, recipients(1), **marketing)
    done = await until(tenant, second["id"], "completed")
    assert (done["counts"]["sent"], done["counts"]["frequency_capped"]) == (1, 0)
    assert (await fetch(tenant, second["id"]))["counts"]["skipped"] == 0
