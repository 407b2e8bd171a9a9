"""Fallback to another channel (SMS or email): at acceptance when the WhatsApp window
is closed, and after the send when WhatsApp reports the number undeliverable (131026),
then as a second message linked to the first."""

from typing import Any

from tests.conftest import Tenant, assert_error, eventually

NOT_ON_WHATSAPP = "+2348012340001"
"""The sandbox's undeliverable recipient: WhatsApp fails it with 131026."""
EMAIL = {"subject": "Your order has shipped", "text": "Order #4582 arrives on Monday."}


def email_fallback(tenant: Tenant, **extra: Any) -> dict[str, Any]:
    return {"channel_id": tenant.email, "to": "ada@example.com", "email": EMAIL, **extra}


async def test_a_closed_window_sends_the_email_fallback_instead(tenant: Tenant) -> None:
    response = await tenant.send(text={"body": "Hi Ada"}, fallback=email_fallback(tenant))
    assert response.status_code == 202, response.text
    message = response.json()
    assert (message["channel_id"], message["fallback_used"], message["type"]) == (
        tenant.email,
        "channel",
        "email",
    )
    assert message["to"] == "ada@example.com"
    assert message["email"]["subject"] == "Your order has shipped"
    await tenant.wait_for(message["id"], "delivered")


async def test_an_email_fallback_needs_an_address(tenant: Tenant) -> None:
    response = await tenant.send(text={"body": "Hi"}, fallback={"channel_id": tenant.email, "email": EMAIL})
    assert_error(response, 422, "parameter_missing", param="fallback.to")


async def test_the_fallback_content_must_fit_its_channel(tenant: Tenant) -> None:
    response = await tenant.send(
        text={"body": "Hi"},
        fallback={"channel_id": tenant.email, "to": "ada@example.com", "text": {"body": "x"}},
    )
    assert_error(response, 422, "channel_type_unsupported", param="fallback.text")
    both = await tenant.send(
        text={"body": "Hi"}, fallback={"channel_id": tenant.sms, "text": {"body": "x"}, "email": EMAIL}
    )
    assert_error(both, 422, "parameter_invalid", param="fallback")


async def fallback_of(tenant: Tenant, original: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The original once it failed with its fallback message named, and that message."""
    failed = await eventually(
        lambda: tenant.message(original["id"]), lambda m: m["fallback_message_id"] is not None
    )
    return failed, await tenant.message(failed["fallback_message_id"])


async def test_undeliverable_on_whatsapp_sends_the_sms_fallback_as_a_linked_message(tenant: Tenant) -> None:
    await tenant.inbound(NOT_ON_WHATSAPP)  # the window is open: WhatsApp is tried first
    sms = {"channel_id": tenant.sms, "text": {"body": "Your order has shipped (SMS)"}}
    response = await tenant.send(NOT_ON_WHATSAPP, text={"body": "Hi"}, fallback=sms, reference="order-4582")
    assert response.status_code == 202, response.text
    assert (response.json()["channel_id"], response.json()["fallback_used"]) == (tenant.whatsapp, None)

    original, replacement = await fallback_of(tenant, response.json())
    assert original["status"] == "failed"
    assert original["error"]["provider_code"] == 131026
    assert replacement["fallback_for"] == original["id"]
    assert (replacement["channel_id"], replacement["to"], replacement["text"]["body"]) == (
        tenant.sms,
        NOT_ON_WHATSAPP,
        "Your order has shipped (SMS)",
    )
    assert (replacement["fallback_used"], replacement["reference"]) == ("channel", "order-4582")
    # It goes through the normal dispatch: this number is unreachable by SMS too, in SMS's own terms.
    failed = await tenant.wait_for(replacement["id"], "failed")
    assert failed["error"]["provider_code"] == "UNDELIV"


async def test_undeliverable_on_whatsapp_sends_the_email_fallback(tenant: Tenant) -> None:
    await tenant.inbound(NOT_ON_WHATSAPP)
    response = await tenant.send(NOT_ON_WHATSAPP, text={"body": "Hi"}, fallback=email_fallback(tenant))
    assert response.status_code == 202, response.text
    original, replacement = await fallback_of(tenant, response.json())
    assert (replacement["channel_id"], replacement["to"], replacement["fallback_for"]) == (
        tenant.email,
        "ada@example.com",
        original["id"],
    )
    await tenant.wait_for(replacement["id"], "delivered")


async def test_a_fallback_the_customer_opted_out_of_is_not_sent(tenant: Tenant) -> None:
    await tenant.inbound(NOT_ON_WHATSAPP)
    await tenant.inbound(NOT_ON_WHATSAPP, "STOP", channel_id=tenant.sms)
    sms = {"channel_id": tenant.sms, "text": {"body": "SMS"}}
    response = await tenant.send(NOT_ON_WHATSAPP, text={"body": "Hi"}, fallback=sms)
    assert response.status_code == 202, response.text
    failed = await tenant.wait_for(response.json()["id"], "failed")
    assert failed["fallback_message_id"] is None
