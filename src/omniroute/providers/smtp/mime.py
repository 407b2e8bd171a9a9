"""An ``email`` message content as a MIME message (``email.message.EmailMessage``):
text/plain or text/html alone, multipart/alternative for both, inside multipart/mixed
when there are attachments. Header values were refused at acceptance if they held a
line break; the standard library's header policy refuses them again here."""

import binascii
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from omniroute.core.email_address import domain_of

CONTAINER_TYPES = ("multipart", "message")


def message_id_for(message_id: str, from_address: str) -> str:
    """Our Message-ID: our message id on the sender's domain. The same on every attempt,
    so a receiving server can recognise a retried send."""
    return f"<{message_id}@{domain_of(from_address)}>"


def build(
    content: dict[str, Any],
    *,
    message_id: str,
    sender: str,
    sender_name: str | None,
    recipient: str,
) -> EmailMessage:
    """The MIME message for ``content`` (bcc recipients go in the envelope only)."""
    mail = EmailMessage()
    local, _, domain = sender.rpartition("@")
    mail["From"] = Address(display_name=sender_name or "", username=local, domain=domain)
    mail["To"] = recipient
    if content.get("cc"):
        mail["Cc"] = ", ".join(content["cc"])
    if content.get("reply_to"):
        mail["Reply-To"] = content["reply_to"]
    mail["Subject"] = content["subject"]
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = message_id_for(message_id, sender)
    text, html = content.get("text"), content.get("html")
    if text is not None:
        mail.set_content(text)
        if html is not None:
            mail.add_alternative(html, subtype="html")
    else:
        mail.set_content(html, subtype="html")
    for attachment in content.get("attachments") or []:
        maintype, _, subtype = attachment["content_type"].lower().partition("/")
        if maintype in CONTAINER_TYPES:  # their parts must not be base64: send them as bytes
            maintype, subtype = "application", "octet-stream"
        mail.add_attachment(
            binascii.a2b_base64(attachment["content_base64"]),
            maintype=maintype,
            subtype=subtype,
            filename=attachment["filename"],
        )
    return mail


def envelope_recipients(recipient: str, content: dict[str, Any]) -> list[str]:
    """Everyone the relay delivers to: To, Cc and Bcc, each once."""
    return list(dict.fromkeys([recipient, *(content.get("cc") or []), *(content.get("bcc") or [])]))
