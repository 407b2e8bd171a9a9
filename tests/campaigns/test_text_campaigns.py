"""Campaigns on SMS and email channels: the same API with a text body (SMS) or an email
(subject, text and/or html) whose {{variable}} placeholders are filled per recipient
from JSON parameters or CSV columns; recipients checked for the channel's kind of
address; the estimate priced per SMS segment and as the rate card says for email. Tier,
window and template rules are WhatsApp's only."""

from decimal import Decimal
from typing import Any

import pytest

from omniroute.core.db import Database
from omniroute.policy import pricing
from omniroute.policy.pricing import RateCardRow
from tests.campaigns.support import number, ok, recipients_of, until
from tests.conftest import Tenant, assert_error, settled

SMS_TEXT = {"body": "Hi {{name}}, your order {{order}} ships today. Reply STOP to opt out."}
EMAIL = {
    "subject": "Your order {{order}}",
    "text": "Hi {{name}}, order {{order}} ships today.",
    "html": "<p>Hi {{name}}, order <b>{{order}}</b> ships today.</p>",
}


def sms_body(tenant: Tenant, rows: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "channel_id": tenant.sms,
        "name": "Shipping notice",
        "text": SMS_TEXT,
        "recipients": rows,
        **extra,
    }


def email_body(tenant: Tenant, rows: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"channel_id": tenant.email, "name": "Shipping notice", "email": EMAIL, "recipients": rows} | extra


async def campaign_messages(tenant: Tenant, campaign_id: str) -> dict[str, dict[str, Any]]:
    page = ok(await tenant.test.get("/v1/messages", params={"campaign_id": campaign_id, "limit": 200}))
    return {m["to"]: m for m in page["data"]}


async def test_an_sms_campaign_fills_each_recipients_text_and_skips_what_it_cannot_send(
    tenant: Tenant, db: Database
) -> None:
    await tenant.inbound(number(3), "STOP", channel_id=tenant.sms)
    rows = [
        {"to": number(0), "parameters": {"name": "Ada", "order": "#1"}},
        {"to": number(1), "parameters": {"name": "Bola", "order": "#2"}, "reference": "crm-2"},
        {"to": "ada@example.com", "parameters": {"name": "Ada", "order": "#3"}},  # not a phone number
        {"to": number(2), "parameters": {"name": "Chi"}},  # no order
        {"to": number(3), "parameters": {"name": "Dayo", "order": "#4"}},  # opted out
        {"to": number(0), "parameters": {"name": "Ada", "order": "#1"}},  # duplicate
    ]
    campaign = ok(await tenant.test.post("/v1/campaigns", json=sms_body(tenant, rows)), 201)
    assert (campaign["category"], campaign["template"]) == ("MARKETING", None)
    assert campaign["content"]["text"] == SMS_TEXT
    done = await until(tenant, campaign["id"], "completed")
    assert (done["counts"]["total"], done["counts"]["skipped"], done["counts"]["failed"]) == (6, 4, 0)
    skipped = {r["row"]: r["reason"] for r in await recipients_of(tenant, campaign["id"], "skipped")}
    assert skipped == {
        3: "invalid_recipient",
        4: "parameter_missing",
        5: "recipient_opted_out",
        6: "duplicate_recipient",
    }
    sent = await campaign_messages(tenant, campaign["id"])
    assert sent[number(1)]["text"]["body"] == "Hi Bola, your order #2 ships today. Reply STOP to opt out."
    assert sent[number(1)]["reference"] == "crm-2"
    assert sent[number(1)]["sms"] == {"encoding": "GSM-7", "segments": 1}
    assert Decimal(done["cost"]["amount"]) == 2 * Decimal("0.0250"), "two SMS of one segment to Nigeria"
    await settled(db, tenant.workspace_id)


async def test_an_sms_estimate_prices_each_recipients_segments(tenant: Tenant) -> None:
    long = "x" * 150  # two GSM-7 segments once filled in
    rows = [
        {"to": number(0), "parameters": {"name": "Ada", "order": "#1"}},
        {"to": number(1), "parameters": {"name": long, "order": "#2"}},
        {"to": "+1 202 555 0143", "parameters": {"name": "Sam", "order": "#3"}},
    ]
    estimate = ok(await tenant.test.post("/v1/campaigns/estimate", json=sms_body(tenant, rows)))
    assert (estimate["valid"], estimate["in_open_window"], estimate["messaging_limit"]) == (3, 0, None)
    by_country = {c["country"]: c for c in estimate["cost_by_country"]}
    assert by_country["NG"]["category"] == "sms"
    assert Decimal(by_country["NG"]["cost"]["amount"]) == 3 * Decimal("0.0250")  # 1 + 2 segments
    assert Decimal(by_country["US"]["cost"]["amount"]) == Decimal("0.0079")
    assert Decimal(estimate["cost"]["amount"]) == 3 * Decimal("0.0250") + Decimal("0.0079")


async def test_an_email_campaign_fills_subject_text_and_escaped_html_from_a_csv(
    tenant: Tenant, db: Database
) -> None:
    csv = "to,name,order,reference\nada@example.com,<Ada>,#1,r1\nada@EXAMPLE.com,Ada,#1,\n+2348031000005,Bo,#2,\n"
    response = await tenant.test.post(
        "/v1/campaigns",
        data={"channel_id": tenant.email, "name": "Shipping notice", **EMAIL, "category": "utility"},
        files={"file": ("list.csv", csv.encode(), "text/csv")},
    )
    campaign = ok(response, 201)
    assert campaign["category"] == "UTILITY"
    done = await until(tenant, campaign["id"], "completed")
    skipped = {r["row"]: r["reason"] for r in await recipients_of(tenant, campaign["id"], "skipped")}
    assert skipped == {2: "duplicate_recipient", 3: "invalid_recipient"}
    [email] = (await campaign_messages(tenant, campaign["id"])).values()
    assert email["email"]["subject"] == "Your order #1"
    assert email["email"]["text"] == "Hi <Ada>, order #1 ships today."
    assert email["email"]["html"] == "<p>Hi &lt;Ada&gt;, order <b>#1</b> ships today.</p>"
    assert done["counts"]["failed"] == 0
    await settled(db, tenant.workspace_id)


async def test_an_email_estimate_prices_as_the_rate_card_says(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [{"to": f"user{i}@example.com", "parameters": {"name": "Ada", "order": f"#{i}"}} for i in range(3)]
    free = ok(await tenant.test.post("/v1/campaigns/estimate", json=email_body(tenant, rows)))
    assert Decimal(free["cost"]["amount"]) == 0, "the shipped card has no email rate"
    card = pricing.rate_card()
    email_rate = RateCardRow("*", "email", Decimal("0.0004"), "USD", card[0].effective_from)
    monkeypatch.setattr(pricing, "rate_card", lambda: (*card, email_rate))
    priced = ok(await tenant.test.post("/v1/campaigns/estimate", json=email_body(tenant, rows)))
    assert Decimal(priced["cost"]["amount"]) == 3 * Decimal("0.0004")
    assert [c["category"] for c in priced["cost_by_country"]] == ["email"]


async def test_each_channel_takes_its_own_content(tenant: Tenant) -> None:
    rows = [{"to": number(0), "parameters": {"name": "Ada", "order": "#1"}}]
    template = {"template": {"name": "order_update", "language": "en"}}
    base = {"name": "x", "recipients": rows}
    attachment = {"filename": "a.txt", "content_type": "text/plain", "content_base64": "aGk="}
    refused = [
        (
            {**base, "channel_id": tenant.whatsapp, "text": SMS_TEXT, **template},
            "channel_type_unsupported",
            "text",
        ),
        ({**base, "channel_id": tenant.whatsapp}, "parameter_missing", "template"),
        ({**sms_body(tenant, rows), **template}, "channel_type_unsupported", "template"),
        ({**base, "channel_id": tenant.sms}, "parameter_missing", "text"),
        ({**base, "channel_id": tenant.sms, "email": EMAIL}, "channel_type_unsupported", "email"),
        (
            email_body(tenant, rows, email={**EMAIL, "attachments": [attachment]}),
            "parameter_invalid",
            "email.attachments",
        ),
    ]
    for payload, code, param in refused:
        for path in ("/v1/campaigns", "/v1/campaigns/estimate"):
            assert_error(await tenant.test.post(path, json=payload), 422, code, param=param)
    assert ok(await tenant.test.get("/v1/campaigns"))["data"] == [], "nothing was stored"
