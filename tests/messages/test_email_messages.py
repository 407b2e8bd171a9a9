"""Email content (``email``: subject, text and/or html, reply-to, cc, bcc, attachments):
checked at acceptance with a 422 naming the field, and the sandbox takes the same body
as the smtp provider."""

import base64
from typing import Any

import pytest

from omniroute.config import Settings
from tests.conftest import Tenant, assert_error

EMAIL = {"subject": "Your order has shipped", "text": "It arrives on Monday."}


async def send_email(tenant: Tenant, to: str = "ada@example.com", **email: Any) -> Any:
    return await tenant.send(to, channel_id=tenant.email, email={**EMAIL, **email})


async def test_the_sandbox_takes_a_full_email_and_delivers_it(tenant: Tenant) -> None:
    response = await send_email(
        tenant,
        html="<p>It arrives on <b>Monday</b>.</p>",
        reply_to="support@shop.example.com",
        cc=["Accounts@Example.COM"],
        bcc=["archive@shop.example.com"],
        attachments=[{"filename": "label.txt", "content_type": "text/plain", "content_base64": "aGk="}],
    )
    assert response.status_code == 202, response.text
    message = response.json()
    assert message["type"] == "email"
    assert message["email"]["subject"] == "Your order has shipped"
    assert message["email"]["cc"] == ["Accounts@example.com"], "domains are normalised, local parts kept"
    assert message["email"]["attachments"] == [
        {"filename": "label.txt", "content_type": "text/plain", "size": 2}
    ]
    assert (await tenant.wait_for(message["id"], "delivered"))["status"] == "delivered"


async def test_an_email_needs_text_or_html(tenant: Tenant) -> None:
    response = await tenant.send("ada@example.com", channel_id=tenant.email, email={"subject": "Hi"})
    assert_error(response, 422, "parameter_missing", param="email.text")


async def test_an_email_needs_a_subject(tenant: Tenant) -> None:
    response = await tenant.send("ada@example.com", channel_id=tenant.email, email={"text": "Hi"})
    assert_error(response, 422, "parameter_missing", param="email.subject")


@pytest.mark.parametrize(
    ("field", "value", "param"),
    [
        ("subject", "Hello\r\nBcc: victim@example.com", "email.subject"),
        ("subject", "Hello\nX-Injected: 1", "email.subject"),
        (
            "attachments",
            [{"filename": "a\r\n.txt", "content_base64": "aGk="}],
            "email.attachments[0].filename",
        ),
    ],
)
async def test_a_line_break_in_a_header_value_is_refused(
    tenant: Tenant, field: str, value: Any, param: str
) -> None:
    response = await send_email(tenant, **{field: value})
    error = assert_error(response, 422, "parameter_invalid", param=param)
    assert "line break" in error["message"]


@pytest.mark.parametrize(
    ("field", "value", "param"),
    [
        ("cc", ["not-an-address"], "email.cc[0]"),
        ("bcc", ["ok@example.com", "two@@example.com"], "email.bcc[1]"),
        ("reply_to", "support@shop.example.com\r\nBcc: x@example.com", "email.reply_to"),
    ],
)
async def test_an_invalid_address_is_an_invalid_recipient(
    tenant: Tenant, field: str, value: Any, param: str
) -> None:
    assert_error(await send_email(tenant, **{field: value}), 422, "invalid_recipient", param=param)


async def test_an_invalid_to_address_is_an_invalid_recipient(tenant: Tenant) -> None:
    assert_error(await send_email(tenant, to="ada@localhost"), 422, "invalid_recipient", param="to")


async def test_attachments_must_be_base64(tenant: Tenant) -> None:
    response = await send_email(tenant, attachments=[{"filename": "a.bin", "content_base64": "not base64!"}])
    assert_error(response, 422, "parameter_invalid", param="email.attachments[0].content_base64")


async def test_attachments_are_limited_in_size(
    tenant: Tenant, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "email_attachments_max_bytes", 1000)
    big = base64.b64encode(b"x" * 1001).decode()
    response = await send_email(tenant, attachments=[{"filename": "big.bin", "content_base64": big}])
    error = assert_error(response, 422, "attachments_too_large", param="email.attachments")
    assert error["details"] == {"size": 1001, "max": 1000}


async def test_an_email_channel_takes_only_email_content(tenant: Tenant) -> None:
    response = await tenant.send("ada@example.com", channel_id=tenant.email, text={"body": "Hi"})
    assert_error(response, 422, "channel_type_unsupported", param="text")


async def test_email_content_goes_only_to_an_email_channel(tenant: Tenant) -> None:
    response = await tenant.send(email=EMAIL)
    assert_error(response, 422, "channel_type_unsupported", param="email")


async def test_reply_to_on_an_email_is_the_email_field_not_a_quoted_message(tenant: Tenant) -> None:
    response = await tenant.send(
        "ada@example.com", channel_id=tenant.email, email=EMAIL, reply_to="msg_01abc"
    )
    assert_error(response, 422, "parameter_invalid", param="reply_to")
