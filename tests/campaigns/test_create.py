"""Creating a campaign: from JSON or a CSV upload; every row screened, skipped rows kept
with their reason; messages made by the campaign's task in the bulk lane; the campaign
completes with counts and cost."""

from typing import Any

from omniroute.core.db import Database
from tests.campaigns.support import body, create, fetch, number, ok, recipients, recipients_of, until
from tests.conftest import POSITIONAL_BODY, Tenant, assert_error, eventually, settled


async def events_of(tenant: Tenant, campaign_id: str) -> list[dict[str, Any]]:
    response = await tenant.test.get(
        "/v1/logs", params={"kind": "event", "campaign_id": campaign_id, "limit": 200}
    )
    return list(ok(response)["data"])


async def test_a_campaign_skips_bad_rows_with_reasons_and_completes_with_counts_and_cost(
    tenant: Tenant, db: Database
) -> None:
    await tenant.approved_template("order_update", category="MARKETING")
    await tenant.inbound(number(3), "STOP")  # opted out of marketing on this channel
    rows = [
        *recipients(5),
        {"to": "not a number", "parameters": {"body": ["Ada", "#1"]}},
        {"to": number(0), "parameters": {"body": ["Ada", "#again"]}},  # duplicate
        {"to": number(6), "parameters": {"body": ["Ada"]}},  # one parameter short
    ]
    campaign = await create(tenant, rows)
    assert campaign["id"].startswith("cmp_")
    assert campaign["status"] == "running"
    assert campaign["counts"]["total"] == 8
    assert campaign["counts"]["skipped"] == 4

    skipped = await recipients_of(tenant, campaign["id"], "skipped")
    assert {(r["row"], r["reason"]) for r in skipped} == {
        (4, "recipient_opted_out"),
        (6, "invalid_recipient"),
        (7, "duplicate_recipient"),
        (8, "template_parameters_mismatch"),
    }
    assert all(r["detail"] for r in skipped)

    done = await until(tenant, campaign["id"], "completed")
    assert done["counts"]["queued"] == 0
    assert done["counts"]["sent"] == 4
    await settled(db, tenant.workspace_id)
    final = await fetch(tenant, campaign["id"])
    assert final["counts"] == {
        "total": 8,
        "queued": 0,
        "sent": 4,
        "delivered": 4,
        "read": 4,
        "failed": 0,
        "replied": 0,
        "skipped": 4,
        "frequency_capped": 0,
        "cancelled": 0,
    }
    assert final["cost"] == {"amount": "0.2064", "currency": "USD"}  # 4 x NG marketing 0.0516

    messages = ok(await tenant.test.get("/v1/messages", params={"campaign_id": campaign["id"]}))["data"]
    assert len(messages) == 4
    assert {m["priority"] for m in messages} == {"bulk"}
    assert {m["campaign_id"] for m in messages} == {campaign["id"]}
    sent = await recipients_of(tenant, campaign["id"], "read")
    assert {r["message_id"] for r in sent} == {m["id"] for m in messages}

    types = [e["type"] for e in await events_of(tenant, campaign["id"])]
    assert "campaign.started" in types and "campaign.completed" in types


async def test_a_utility_campaign_still_reaches_opted_out_contacts(tenant: Tenant) -> None:
    await tenant.approved_template()
    await tenant.inbound(number(0), "STOP")
    campaign = await create(tenant, recipients(2))
    assert campaign["counts"]["skipped"] == 0
    done = await until(tenant, campaign["id"], "completed")
    assert done["counts"]["sent"] == 2


async def test_a_csv_upload_creates_the_same_campaign(tenant: Tenant) -> None:
    await tenant.approved_template()
    lines = ["to,1,2,reference"] + [f"{number(i)},Ada,#{i},order-{i}" for i in range(3)] + ["12,Ada,#x,"]
    response = await tenant.test.post(
        "/v1/campaigns",
        data={
            "channel_id": tenant.whatsapp,
            "name": "From CSV",
            "template_name": "order_update",
            "template_language": "en",
        },
        files={"file": ("list.csv", "\n".join(lines).encode(), "text/csv")},
    )
    campaign = ok(response, 201)
    assert campaign["counts"]["total"] == 4 and campaign["counts"]["skipped"] == 1
    done = await until(tenant, campaign["id"], "completed")
    assert done["counts"]["sent"] == 3
    references = (
        {r["reference"] for r in await recipients_of(tenant, campaign["id"], "sent")}
        | {r["reference"] for r in await recipients_of(tenant, campaign["id"], "delivered")}
        | {r["reference"] for r in await recipients_of(tenant, campaign["id"], "read")}
    )
    assert references == {"order-0", "order-1", "order-2"}


async def test_a_csv_without_a_variable_column_is_refused_and_nothing_stored(tenant: Tenant) -> None:
    await tenant.approved_template()
    response = await tenant.test.post(
        "/v1/campaigns",
        data={
            "channel_id": tenant.whatsapp,
            "name": "x",
            "template_name": "order_update",
            "template_language": "en",
        },
        files={"file": ("list.csv", b"to,1\n+2348031000001,Ada\n", "text/csv")},
    )
    error = assert_error(response, 422, "template_parameters_mismatch", param="file")
    assert error["details"]["expected"] == ["to", "1", "2"]
    assert ok(await tenant.test.get("/v1/campaigns"))["data"] == []


async def test_a_template_that_is_not_approved_refuses_the_campaign(tenant: Tenant) -> None:
    assert_error(
        await tenant.test.post("/v1/campaigns", json=body(tenant, recipients(1))),
        404,
        "template_not_found",
        param="template.name",
    )
    created = await tenant.create_template("order_update", components=[POSITIONAL_BODY])
    assert created.status_code == 201
    assert_error(
        await tenant.test.post("/v1/campaigns", json=body(tenant, recipients(1))),
        409,
        "template_not_approved",
    )


async def test_a_bad_body_names_the_field(tenant: Tenant) -> None:
    await tenant.approved_template()
    assert_error(
        await tenant.test.post("/v1/campaigns", json=body(tenant, [])),
        422,
        "parameter_invalid",
        param="recipients",
    )
    assert_error(
        await tenant.test.post("/v1/campaigns", json=body(tenant, recipients(1), on_limit="sometimes")),
        422,
        "parameter_invalid",
        param="on_limit",
    )


async def test_schedule_at_waits_for_the_test_clock(tenant: Tenant) -> None:
    await tenant.approved_template()
    now = ok(await tenant.test.get("/v1/sandbox/clock"))["now"]
    from datetime import datetime, timedelta

    later = (datetime.fromisoformat(now) + timedelta(hours=2)).isoformat()
    campaign = await create(tenant, recipients(2), schedule_at=later)
    assert campaign["status"] == "scheduled"
    await tenant.advance_clock(3600)
    assert (await fetch(tenant, campaign["id"]))["status"] == "scheduled"
    assert ok(await tenant.test.get("/v1/messages", params={"campaign_id": campaign["id"]}))["data"] == []
    await tenant.advance_clock(3601)
    done = await until(tenant, campaign["id"], "completed")
    assert done["started_at"] >= later[:19]
    assert done["counts"]["sent"] == 2


async def test_campaigns_are_listed_newest_first_and_scoped_to_the_mode(tenant: Tenant) -> None:
    await tenant.approved_template()
    first = await create(tenant, recipients(1))
    second = await create(tenant, recipients(1, start=1))
    listed = ok(await tenant.test.get("/v1/campaigns"))["data"]
    assert [c["id"] for c in listed] == [second["id"], first["id"]]
    assert ok(await tenant.live.get("/v1/campaigns"))["data"] == []
    assert_error(await tenant.live.get(f"/v1/campaigns/{first['id']}"), 404, "resource_not_found")
    await eventually(lambda: fetch(tenant, second["id"]), lambda c: c["status"] == "completed")


async def test_an_unreadable_upload_is_a_422_naming_the_field(tenant: Tenant) -> None:
    await tenant.approved_template()
    form = {
        "channel_id": tenant.whatsapp,
        "name": "x",
        "template_name": "order_update",
        "template_language": "en",
    }
    not_utf8 = await tenant.test.post(
        "/v1/campaigns", data=form, files={"file": ("list.csv", b"to,1,2\n\xff\xfe,\x00,\n", "text/csv")}
    )
    assert_error(not_utf8, 422, "csv_invalid", param="file")
    with_nul = await tenant.test.post(
        "/v1/campaigns",
        data={**form, "name": "a\x00b"},
        files={"file": ("list.csv", b"to,1,2\n", "text/csv")},
    )
    assert_error(with_nul, 422, "parameter_invalid", param="name")
    no_file = await tenant.test.post("/v1/campaigns", data=form, files={"other": ("x.csv", b"", "text/csv")})
    assert_error(no_file, 422, "parameter_missing", param="file")
