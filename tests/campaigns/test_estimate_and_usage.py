"""The estimate says what a campaign would do before anything is stored; usage says what
was sent and what it cost; the messaging tier makes a campaign wait or skip."""

from sqlalchemy import func, select

from omniroute.campaigns.models import Campaign
from omniroute.core.db import Database
from tests.campaigns.support import body, create, fetch, number, ok, recipients, recipients_of, until
from tests.conftest import Tenant, settled
from tests.messages.test_messaging_limit import LIMIT, fill_the_tier


async def test_an_estimate_counts_reach_limits_cost_and_time_and_stores_nothing(
    tenant: Tenant, db: Database
) -> None:
    await tenant.approved_template("order_update", category="MARKETING")
    await tenant.inbound(number(1), "Hi")  # window open
    await tenant.inbound(number(2), "STOP")  # opted out of marketing
    rows = [*recipients(4), {"to": "+1 202 555 0143", "parameters": {"body": ["Ada", "#9"]}}]
    rows += [{"to": "nope"}, {"to": number(0), "parameters": {"body": ["Ada", "#0"]}}]
    estimate = ok(await tenant.test.post("/v1/campaigns/estimate", json=body(tenant, rows)))
    assert estimate["recipients"] == 7
    assert (estimate["valid"], estimate["invalid"], estimate["duplicates"], estimate["opted_out"]) == (
        4,
        1,
        1,
        1,
    )
    assert estimate["in_open_window"] == 1
    assert estimate["beyond_messaging_limit"] == 0
    by_country = {row["country"]: row for row in estimate["cost_by_country"]}
    assert by_country["NG"]["messages"] == 3 and by_country["NG"]["cost"]["amount"] == "0.1548"
    assert by_country["US"]["cost"]["amount"] == "0.0250"
    assert estimate["cost"] == {"amount": "0.1798", "currency": "USD"}
    assert estimate["throughput_per_second"] == 72.0  # 80/s with the pacing headroom
    assert estimate["seconds_to_send"] == round(4 / 72, 3)
    async with db.sessionmaker() as session:
        mine = await session.scalar(select(func.count()).where(Campaign.workspace_id == tenant.workspace_id))
    assert mine == 0


async def test_an_estimate_says_how_many_are_beyond_the_tier(tenant: Tenant, db: Database) -> None:
    await tenant.approved_template()
    await fill_the_tier(db, tenant)
    estimate = ok(await tenant.test.post("/v1/campaigns/estimate", json=body(tenant, recipients(3))))
    assert estimate["messaging_limit"] == LIMIT and estimate["beyond_messaging_limit"] == 3


async def test_a_campaign_beyond_the_tier_skips_or_waits_per_its_setting(
    tenant: Tenant, db: Database
) -> None:
    await tenant.approved_template()
    await fill_the_tier(db, tenant)
    failing = await create(tenant, recipients(2), on_limit="fail")
    done = await until(tenant, failing["id"], "completed")
    assert done["counts"]["skipped"] == 2
    assert {r["reason"] for r in await recipients_of(tenant, failing["id"], "skipped")} == {
        "messaging_limit_reached"
    }

    waiting = await create(tenant, recipients(2, start=10))
    await settled(db, tenant.workspace_id)
    held = await fetch(tenant, waiting["id"])
    assert held["status"] == "running" and held["counts"]["queued"] == 2 and held["counts"]["sent"] == 0
    await tenant.advance_clock(24 * 3600 + 60)  # the tier's rolling 24 h frees up
    assert (await until(tenant, waiting["id"], "completed"))["counts"]["sent"] == 2


async def test_usage_groups_messages_and_cost(tenant: Tenant, db: Database) -> None:
    await tenant.approved_template("order_update", category="MARKETING")
    campaign = await create(tenant, recipients(2))
    await until(tenant, campaign["id"], "completed")
    await tenant.send(
        number(50), template={"name": "order_update", "language": "en", "parameters": {"body": ["A", "B"]}}
    )
    await settled(db, tenant.workspace_id)
    clock = ok(await tenant.test.get("/v1/sandbox/clock"))["now"]
    window = {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}
    by_campaign = ok(await tenant.test.get("/v1/usage", params={**window, "group_by": "campaign"}))["data"]
    assert by_campaign == [
        {
            "key": campaign["id"],
            "messages": 2,
            "billable": 2,
            "cost": {"amount": "0.1032", "currency": "USD"},
        },
        {"key": "none", "messages": 1, "billable": 1, "cost": {"amount": "0.0516", "currency": "USD"}},
    ]
    by_day = ok(await tenant.test.get("/v1/usage", params={**window, "group_by": "day"}))["data"]
    assert [row["key"] for row in by_day] == [clock[:10]] and by_day[0]["messages"] == 3
    by_country = ok(await tenant.test.get("/v1/usage", params={**window, "group_by": "country"}))["data"]
    assert by_country[0]["key"] == "NG" and by_country[0]["cost"]["amount"] == "0.1548"
    by_category = ok(await tenant.test.get("/v1/usage", params={**window, "group_by": "category"}))["data"]
    assert [row["key"] for row in by_category] == ["marketing"]
    refused = await tenant.test.get("/v1/usage", params={"from": window["to"], "to": window["from"]})
    assert refused.status_code == 422
