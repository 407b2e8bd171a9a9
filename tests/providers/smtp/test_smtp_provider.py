"""The smtp provider against a real SMTP server on loopback (aiosmtpd): what arrives is
the MIME message the API described, over plain SMTP, STARTTLS or implicit TLS, with
AUTH; refusals fail the message with the relay's reply, deferrals are retried."""

import base64
from typing import Any

import pytest

from tests.conftest import eventually
from tests.providers.smtp.conftest import StartRelay
from tests.providers.smtp.relay import PASSWORD

PDF = b"%PDF-1.4 invoice 4582\x00\x01\x02"


async def test_text_html_cc_bcc_and_attachment_arrive_as_one_mime_message(start_relay: StartRelay) -> None:
    channel = await start_relay()
    accepted = await channel.send(
        "ada@example.com",
        subject="Invoice #4582",
        text="Your invoice is attached.",
        html="<p>Your invoice is <b>attached</b>.</p>",
        reply_to="billing@shop.example.com",
        cc=["accounts@example.com"],
        bcc=["archive@shop.example.com"],
        attachments=[
            {
                "filename": "invoice-4582.pdf",
                "content_type": "application/pdf",
                "content_base64": base64.b64encode(PDF).decode(),
            }
        ],
    )
    assert accepted["email"]["attachments"] == [
        {"filename": "invoice-4582.pdf", "content_type": "application/pdf", "size": len(PDF)}
    ], "the API never echoes attachment bytes"
    sent = await channel.tenant.wait_for(accepted["id"], "sent")

    [received] = channel.relay.received
    mail = received.message
    assert received.mail_from == "notifications@shop.example.com"
    assert sorted(received.rcpt_tos) == [
        "accounts@example.com",
        "ada@example.com",
        "archive@shop.example.com",
    ]
    assert mail["Subject"] == "Invoice #4582"
    assert mail["From"] == "Ada's Shop <notifications@shop.example.com>"
    assert (mail["To"], mail["Cc"], mail["Reply-To"]) == (
        "ada@example.com",
        "accounts@example.com",
        "billing@shop.example.com",
    )
    assert mail["Bcc"] is None, "bcc recipients are in the envelope only"
    assert mail["Message-ID"] == f"<{accepted['id']}@shop.example.com>" == sent["provider_message_id"]
    assert mail.get_content_type() == "multipart/mixed"
    body, attachment = mail.iter_parts()
    assert body.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in body.iter_parts()] == ["text/plain", "text/html"]
    assert mail.get_body(("plain",)).get_content().strip() == "Your invoice is attached."
    assert mail.get_body(("html",)).get_content().strip() == "<p>Your invoice is <b>attached</b>.</p>"
    assert attachment.get_filename() == "invoice-4582.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF


async def test_text_alone_is_a_single_text_part_and_html_alone_a_single_html_part(
    start_relay: StartRelay,
) -> None:
    channel = await start_relay()
    text = await channel.send(text="Plain only.")
    html = await channel.send(text=None, html="<h1>HTML only</h1>")
    for message in (text, html):
        await channel.tenant.wait_for(message["id"], "sent")
    kinds = {r.message["Message-ID"]: r.message.get_content_type() for r in channel.relay.received}
    assert kinds == {
        f"<{text['id']}@shop.example.com>": "text/plain",
        f"<{html['id']}@shop.example.com>": "text/html",
    }


async def test_starttls_with_auth(start_relay: StartRelay) -> None:
    channel = await start_relay(security="starttls", auth=True)
    message = await channel.send()
    await channel.tenant.wait_for(message["id"], "sent")
    assert len(channel.relay.received) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_implicit_tls_with_auth(start_relay: StartRelay) -> None:
    # aiosmtpd counts only STARTTLS as TLS for AUTH, and warns that AUTH over implicit TLS is not
    channel = await start_relay(security="tls", auth=True)
    message = await channel.send()
    await channel.tenant.wait_for(message["id"], "sent")
    assert len(channel.relay.received) == 1


async def test_the_password_is_never_echoed(start_relay: StartRelay) -> None:
    channel = await start_relay(security="starttls", auth=True)
    shown = (await channel.tenant.test.get(f"/v1/channels/{channel.id}")).json()
    assert shown["config"]["password"] == "****" + PASSWORD[-4:]
    assert shown["address"] == "notifications@shop.example.com"


async def test_a_refused_recipient_fails_the_message_with_the_relays_reply(start_relay: StartRelay) -> None:
    channel = await start_relay()
    channel.relay.handler.rcpt_replies["nobody@example.com"] = (
        "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown"
    )
    message = await channel.send("nobody@example.com")
    failed = await channel.tenant.wait_for(message["id"], "failed")
    assert failed["error"]["code"] == "email_rejected"
    assert failed["error"]["provider_code"] == 550
    assert "Recipient address rejected: User unknown" in failed["error"]["message"]
    assert failed["attempts"] == 1


async def test_a_refused_message_body_is_final_too(start_relay: StartRelay) -> None:
    channel = await start_relay()
    channel.relay.handler.data_replies.append("554 5.7.1 Message rejected as spam")
    failed = await channel.tenant.wait_for((await channel.send())["id"], "failed")
    assert (failed["error"]["code"], failed["error"]["provider_code"]) == ("email_rejected", 554)
    assert "Message rejected as spam" in failed["error"]["message"]


async def test_a_temporary_refusal_is_retried_then_sent(start_relay: StartRelay) -> None:
    channel = await start_relay()
    channel.relay.handler.data_replies.append("451 4.3.0 Mail server temporarily unavailable")
    sent = await channel.tenant.wait_for((await channel.send())["id"], "sent", within=15)
    assert sent["attempts"] == 2
    assert len(channel.relay.received) == 1


async def test_rejected_credentials_fail_the_message_and_mark_the_channel(start_relay: StartRelay) -> None:
    channel = await start_relay(security="starttls", auth=True, password="wrong-password-123")
    failed = await channel.tenant.wait_for((await channel.send())["id"], "failed")
    assert failed["error"]["code"] == "credentials_rejected"
    assert failed["error"]["provider_code"] == 535
    status = (await channel.tenant.test.get(f"/v1/channels/{channel.id}")).json()["status"]
    assert status == "credentials_rejected"


async def test_sends_reuse_one_authenticated_connection(start_relay: StartRelay) -> None:
    channel = await start_relay(security="starttls", auth=True)
    for _ in range(3):
        await channel.tenant.wait_for((await channel.send())["id"], "sent")
    assert len({received.peer for received in channel.relay.received}) == 1


async def test_a_relay_that_is_down_is_retried(start_relay: StartRelay) -> None:
    channel = await start_relay()
    channel.relay.stop()
    message = await channel.send()

    async def attempts() -> Any:
        return (await channel.tenant.message(message["id"]))["attempts"]

    await eventually(attempts, lambda count: count >= 1)
    pending = await channel.tenant.message(message["id"])
    assert pending["status"] in ("queued", "sending"), pending
    channel.relay.start()
    await channel.tenant.wait_for(message["id"], "sent", within=15)
