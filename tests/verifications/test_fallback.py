"""Channels are tried in order: the next one when a send fails finally (WhatsApp's
131026, an SMS delivery report, an SMTP refusal) or is not delivered in time. The same
code goes on every channel, and the verification lists every attempt."""

import pytest

from omniroute.config import Settings
from tests.conftest import Tenant
from tests.verifications.support import (
    NOT_REACHABLE,
    PHONE,
    REFUSED_EMAIL,
    authentication_template,
    check,
    send_code,
    settled_attempts,
)


async def test_whatsapp_undeliverable_falls_back_to_sms_then_email_with_the_same_code(tenant: Tenant) -> None:
    template = await authentication_template(tenant)
    assert template["category"] == "AUTHENTICATION"
    created = await send_code(
        tenant.test, to=NOT_REACHABLE, channels=["whatsapp", "sms", "email"], email="ada@example.com"
    )
    assert (created["status"], created["channel"]) == ("pending", "whatsapp")

    done = await settled_attempts(tenant.test, created["id"], ["failed", "failed", "delivered"])
    whatsapp, sms, _ = done["attempts"]
    assert [a["channel"] for a in done["attempts"]] == ["whatsapp", "sms", "email"]
    assert whatsapp["error"]["provider_code"] == 131026
    assert sms["error"]["provider_code"] == "UNDELIV"
    assert (done["channel"], done["delivered_channel"]) == ("email", "email")
    assert len({a["message_id"] for a in done["attempts"]}) == 3

    approved = await check(tenant.test, created["id"], created["test_code"])
    assert approved.json()["status"] == "approved", approved.text


async def test_an_smtp_refusal_falls_back_to_sms(tenant: Tenant) -> None:
    created = await send_code(tenant.test, to=PHONE, email=REFUSED_EMAIL, channels=["email", "sms"])
    done = await settled_attempts(tenant.test, created["id"], ["failed", "delivered"])
    assert done["attempts"][0]["error"]["code"] == "email_rejected"
    assert done["delivered_channel"] == "sms"
    assert (await check(tenant.test, created["id"], created["test_code"])).json()["status"] == "approved"


async def test_whatsapp_sends_the_authentication_template_in_the_high_priority_lane(tenant: Tenant) -> None:
    await authentication_template(tenant)
    created = await send_code(tenant.test, channels=["whatsapp"])
    done = await settled_attempts(tenant.test, created["id"], ["delivered"])
    message = await tenant.message(done["attempts"][0]["message_id"])
    assert message["priority"] == "high"
    assert message["template"]["name"] == "verification_code"
    masked = "*" * 6
    assert message["template"]["parameters"] == {"body": [masked], "buttons": [masked]}


async def test_no_approved_template_skips_whatsapp(tenant: Tenant) -> None:
    created = await send_code(tenant.test, channels=["whatsapp", "sms"])
    assert created["attempts"][0]["status"] == "skipped"
    assert created["attempts"][0]["error"]["code"] == "template_not_found"
    assert created["channel"] == "sms"


async def test_no_delivery_receipt_in_time_moves_to_the_next_channel(
    tenant: Tenant, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "sandbox_status_interval", 100_000.0)  # receipts come much later
    created = await send_code(tenant.test, channels=["sms", "email"], email="ada@example.com")
    await tenant.advance_clock(settings.verification_delivery_timeout_seconds + 1)
    done = await settled_attempts(tenant.test, created["id"], ["timed_out", "sent"])
    assert done["channel"] == "email"
