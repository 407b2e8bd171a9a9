"""Fallbacks: what to send instead when the window is closed, and the response says
what was actually chosen."""

from typing import Any

from tests.conftest import Tenant, assert_error

TEMPLATE_FALLBACK = {"name": "order_update", "language": "en", "parameters": {"body": ["Ada", "#4582"]}}


def sms_fallback(tenant: Tenant) -> dict[str, Any]:
    return {"channel_id": tenant.sms, "text": {"body": "Your order #4582 has shipped (SMS)"}}


async def test_template_fallback_is_used_when_the_window_is_closed(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    response = await tenant.send(text={"body": "Hi Ada"}, fallback={"template": TEMPLATE_FALLBACK})
    assert response.status_code == 202, response.text
    message = response.json()
    assert message["kind"] == "template"
    assert message["fallback_used"] == "template"
    assert message["channel_id"] == tenant.whatsapp
    assert message["template"]["name"] == "order_update"
    read = await tenant.wait_for(message["id"], "read")
    assert read["fallback_used"] == "template"


async def test_fallback_is_not_used_while_the_window_is_open(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    await tenant.inbound()
    response = await tenant.send(text={"body": "Hi Ada"}, fallback={"template": TEMPLATE_FALLBACK})
    assert response.status_code == 202, response.text
    message = response.json()
    assert (message["kind"], message["fallback_used"]) == ("session", None)
    assert message["text"]["body"] == "Hi Ada"


async def test_channel_fallback_sends_on_the_other_channel(tenant: Tenant) -> None:
    response = await tenant.send(text={"body": "Hi Ada"}, fallback=sms_fallback(tenant))
    assert response.status_code == 202, response.text
    message = response.json()
    assert message["fallback_used"] == "channel"
    assert message["kind"] == "session"
    assert message["channel_id"] == tenant.sms
    assert message["text"]["body"] == "Your order #4582 has shipped (SMS)"
    await tenant.wait_for(message["id"], "delivered")


async def test_template_fallback_is_preferred_over_channel_fallback(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    response = await tenant.send(
        text={"body": "Hi"}, fallback={"template": TEMPLATE_FALLBACK, **sms_fallback(tenant)}
    )
    assert response.status_code == 202, response.text
    assert (response.json()["fallback_used"], response.json()["channel_id"]) == ("template", tenant.whatsapp)


async def test_channel_fallback_is_used_when_the_template_fallback_cannot_be_sent(tenant: Tenant) -> None:
    response = await tenant.send(
        text={"body": "Hi"}, fallback={"template": TEMPLATE_FALLBACK, **sms_fallback(tenant)}
    )
    assert response.status_code == 202, response.text
    assert (response.json()["fallback_used"], response.json()["channel_id"]) == ("channel", tenant.sms)


async def test_unsendable_template_fallback_alone_reports_why(tenant: Tenant) -> None:
    response = await tenant.send(text={"body": "Hi"}, fallback={"template": TEMPLATE_FALLBACK})
    error = assert_error(response, 404, "template_not_found")
    assert error["param"] == "fallback.template.name"


async def test_template_fallback_with_wrong_parameters_is_a_mismatch(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    response = await tenant.send(
        text={"body": "Hi"},
        fallback={"template": {"name": "order_update", "language": "en", "parameters": {"body": ["Ada"]}}},
    )
    error = assert_error(response, 422, "template_parameters_mismatch")
    assert error["param"] == "fallback.template.parameters.body"


async def test_fallback_to_an_unknown_channel_is_not_found(tenant: Tenant) -> None:
    response = await tenant.send(
        text={"body": "Hi"}, fallback={"channel_id": "ch_doesnotexist", "text": {"body": "x"}}
    )
    assert_error(response, 404, "resource_not_found", param="fallback.channel_id")


async def test_fallback_to_a_channel_the_customer_opted_out_of_is_refused(tenant: Tenant) -> None:
    await tenant.send(channel_id=tenant.sms)  # creates the contact
    contact_id = await tenant.contact_id()
    opted = await tenant.test.post(f"/v1/contacts/{contact_id}/opt-outs", json={"channel_id": tenant.sms})
    assert opted.status_code == 201, opted.text
    response = await tenant.send(text={"body": "Hi"}, fallback=sms_fallback(tenant))
    assert_error(response, 409, "recipient_opted_out")


async def test_empty_fallback_is_a_validation_error(tenant: Tenant) -> None:
    response = await tenant.send(text={"body": "Hi"}, fallback={})
    assert_error(response, 422, "parameter_invalid", param="fallback")


async def test_channel_fallback_without_text_is_a_validation_error(tenant: Tenant) -> None:
    response = await tenant.send(text={"body": "Hi"}, fallback={"channel_id": tenant.sms})
    assert_error(response, 422, "parameter_missing", param="fallback")
