"""The ``email`` content of a message: subject, text and/or HTML, reply-to, cc, bcc and
attachments. Every header value is refused if it holds a line break (header
injection), every address is checked (``core.email_address``), attachments must be
valid base64 and together within ``OMNIROUTE_EMAIL_ATTACHMENTS_MAX_BYTES``."""

import binascii
from typing import Annotated, Any

from email_validator import EmailNotValidError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from omniroute.core import email_address
from omniroute.core.errors import InvalidRequestError

SUBJECT_MAX_LENGTH = 998
"""RFC 5322's line limit; longer subjects are folded by nobody we can rely on."""
MAX_ADDRESSES = 50
"""cc and bcc each: a relay refuses long recipient lists (Postfix: 1000 in all)."""
MAX_ATTACHMENTS = 20


def _one_line(value: str) -> str:
    if email_address.has_line_break(value):
        raise PydanticCustomError(
            "header_injection",
            "a header value cannot contain a line break (CR or LF)",
            {"code": "parameter_invalid"},
        )
    return value


def _address(value: str) -> str:
    try:
        return email_address.validated(value)
    except EmailNotValidError as exc:
        raise PydanticCustomError(
            "invalid_recipient",
            "'{address}' is not an email address: {reason}",
            {"address": value, "reason": str(exc), "code": "invalid_recipient"},
        ) from None


def _base64(value: str) -> str:
    try:
        binascii.a2b_base64(value.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError):
        raise PydanticCustomError(
            "base64_invalid", "not valid base64 (RFC 4648, no line breaks)", {"code": "parameter_invalid"}
        ) from None
    return value


HeaderText = Annotated[str, AfterValidator(_one_line)]
Address = Annotated[str, Field(min_length=3, max_length=320), AfterValidator(_address)]


class Attachment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: HeaderText = Field(min_length=1, max_length=255)
    content_type: HeaderText = Field(
        default="application/octet-stream", pattern=r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+$"
    )
    content_base64: Annotated[str, AfterValidator(_base64)] = Field(min_length=1)

    def size(self) -> int:
        """Decoded size in bytes."""
        return len(binascii.a2b_base64(self.content_base64))


class EmailContent(BaseModel):
    """At least one of ``text`` and ``html``: both make a multipart/alternative email,
    attachments a multipart/mixed one."""

    model_config = ConfigDict(extra="forbid")

    subject: HeaderText = Field(min_length=1, max_length=SUBJECT_MAX_LENGTH)
    html: str | None = Field(default=None, min_length=1)
    text: str | None = Field(
        default=None, min_length=1, validate_default=True, description="Give text, html, or both."
    )
    reply_to: Address | None = None
    cc: list[Address] = Field(default_factory=list, max_length=MAX_ADDRESSES)
    bcc: list[Address] = Field(default_factory=list, max_length=MAX_ADDRESSES)
    attachments: list[Attachment] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)

    @field_validator("text")
    @classmethod
    def _text_or_html(cls, text: str | None, info: ValidationInfo) -> str | None:
        if text is None and info.data.get("html") is None and "subject" in info.data:
            raise PydanticCustomError(
                "email_body_missing", "give 'text', 'html' or both", {"code": "parameter_missing"}
            )
        return text


def require_within_limits(content: EmailContent | None, max_bytes: int, *, param: str) -> None:
    """Attachments together at most ``max_bytes`` decoded (a 422 naming them otherwise)."""
    if content is None or not content.attachments:
        return
    total = sum(attachment.size() for attachment in content.attachments)
    if total > max_bytes:
        raise InvalidRequestError(
            "attachments_too_large",
            f"The attachments add up to {total} bytes; at most {max_bytes} are allowed per email.",
            param=f"{param}.attachments",
            details={"size": total, "max": max_bytes},
        )


def as_shown(content: dict[str, Any]) -> dict[str, Any]:
    """The content as the API and events show it: attachments by name, type and size,
    never their bytes (an event would carry megabytes to every webhook endpoint)."""
    if not content.get("attachments"):
        return content
    return {
        **content,
        "attachments": [
            {
                "filename": attachment["filename"],
                "content_type": attachment["content_type"],
                "size": len(binascii.a2b_base64(attachment["content_base64"])),
            }
            for attachment in content["attachments"]
        ],
    }
