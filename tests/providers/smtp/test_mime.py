"""The MIME message built for an ``email`` content (no network)."""

import base64
from email import message_from_bytes, policy

from omniroute.providers.smtp import mime


def build(content: dict[str, object], name: str | None = "Ada's Shop") -> mime.EmailMessage:
    built = mime.build(
        {"subject": "Hello", **content},
        message_id="msg_01abc",
        sender="notifications@shop.example.com",
        sender_name=name,
        recipient="ada@example.com",
    )
    parsed = message_from_bytes(built.as_bytes(), policy=policy.default)
    assert isinstance(parsed, mime.EmailMessage)
    return parsed


def test_non_ascii_subject_and_sender_name_survive_the_round_trip() -> None:
    mail = build({"subject": "Ünïcode ✓ order", "text": "Merci"}, name='Boutique "Ça va", Lagos')
    assert mail["Subject"] == "Ünïcode ✓ order"
    assert mail["From"].addresses[0].display_name == 'Boutique "Ça va", Lagos'
    assert mail["From"].addresses[0].addr_spec == "notifications@shop.example.com"


def test_message_id_is_ours_on_the_senders_domain() -> None:
    assert build({"text": "x"})["Message-ID"] == "<msg_01abc@shop.example.com>"
    assert mime.message_id_for("msg_01abc", "a@b.example.org") == "<msg_01abc@b.example.org>"


def test_html_alone_is_one_html_part() -> None:
    mail = build({"html": "<p>Hi</p>"})
    assert mail.get_content_type() == "text/html"


def test_a_message_attachment_is_sent_as_bytes() -> None:
    """message/* and multipart/* parts may not be base64 encoded (RFC 2046): sent as
    application/octet-stream, with their name."""
    raw = base64.b64encode(b"Subject: x\r\n\r\nbody").decode()
    mail = build(
        {
            "text": "See attached",
            "attachments": [{"filename": "m.eml", "content_type": "message/rfc822", "content_base64": raw}],
        }
    )
    attachment = next(mail.iter_attachments())
    assert attachment.get_content_type() == "application/octet-stream"
    assert attachment.get_filename() == "m.eml"
    assert attachment.get_content() == b"Subject: x\r\n\r\nbody"


def test_envelope_has_every_recipient_once() -> None:
    content = {"cc": ["b@example.com", "ada@example.com"], "bcc": ["c@example.com"]}
    assert mime.envelope_recipients("ada@example.com", content) == [
        "ada@example.com",
        "b@example.com",
        "c@example.com",
    ]
