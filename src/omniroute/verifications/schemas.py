from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from omniroute.verifications.models import VerificationStatus

CHANNEL_TYPES = ("whatsapp", "sms", "email")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VerificationCreate(Strict):
    to: str = Field(min_length=1, max_length=320, description="A phone number, or an email address.")
    channels: list[str] = Field(
        default_factory=lambda: ["sms"],
        min_length=1,
        max_length=5,
        description="Tried in order, the next when one fails: 'whatsapp', 'sms', 'email' (the "
        "workspace's first active channel of that type), or a channel id.",
    )
    email: str | None = Field(
        default=None,
        max_length=320,
        description="The address the email channel uses when `to` is a phone number.",
    )
    code_length: int = Field(default=6, ge=4, le=10, strict=True)
    ttl_seconds: int = Field(default=600, ge=60, le=3600, strict=True)
    locale: str = Field(
        default="en", min_length=2, max_length=16, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]+)?$"
    )
    brand: str | None = Field(
        default=None,
        min_length=1,
        max_length=60,
        pattern=r"^[^{}\r\n]+$",
        description="The name in the text (`{{brand}}`); the workspace's name by default.",
    )

    @field_validator("channels")
    @classmethod
    def _known(cls, channels: list[str]) -> list[str]:
        for channel in channels:
            if channel not in CHANNEL_TYPES and not channel.startswith("ch_"):
                raise ValueError(f"'{channel}' is not whatsapp, sms, email or a channel id")
        return channels


class CheckCode(Strict):
    code: str = Field(min_length=1, max_length=20)


class CheckDestination(CheckCode):
    to: str = Field(min_length=1, max_length=320)


class AttemptOut(BaseModel):
    channel: str
    channel_id: str | None
    message_id: str | None
    status: str
    """``queued`` while on its way, then ``delivered``, ``failed``, ``timed_out`` (no
    delivery receipt in time: the next channel was tried), or ``skipped`` (refused before
    sending, e.g. a country not allowed; ``error`` says why)."""
    error: dict[str, Any] | None = None
    at: datetime


class VerificationOut(BaseModel):
    id: str
    object: Literal["verification"] = "verification"
    status: VerificationStatus
    to: str
    email: str | None
    channel: str | None
    """The channel of the latest attempt."""
    delivered_channel: str | None
    attempts: list[AttemptOut]
    checks_left: int
    code_length: int
    locale: str
    expires_at: datetime
    approved_at: datetime | None
    created_at: datetime
    test_code: str | None = Field(
        default=None, description="Test mode only: the code, so integration tests can check it."
    )


class CheckOut(BaseModel):
    id: str
    status: VerificationStatus
    valid: bool
    """Whether this check approved the verification."""
    checks_left: int
    to: str
    channel: str | None


class TextOut(BaseModel):
    channel: Literal["sms", "email"]
    locale: str
    source: Literal["built_in", "workspace"]
    text: dict[str, str]


class WhatsAppTemplateOut(BaseModel):
    channel: Literal["whatsapp"] = "whatsapp"
    channel_id: str
    template_id: str
    name: str
    language: str
    status: str


class TemplatesOut(BaseModel):
    data: list[TextOut]
    whatsapp: list[WhatsAppTemplateOut]
    """The AUTHENTICATION templates of the workspace's WhatsApp channels (Meta fixes their text)."""


class WhatsAppTemplateCreate(Strict):
    channel_id: str = Field(min_length=1, max_length=40)
    locale: str = Field(default="en", min_length=2, max_length=16)
    name: str = Field(default="verification_code", min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")
    otp_type: Literal["COPY_CODE", "ONE_TAP"] = "COPY_CODE"
    button_text: str = Field(default="Copy code", min_length=1, max_length=25)
    code_expiration_minutes: int | None = Field(default=10, ge=1, le=90, strict=True)
    add_security_recommendation: bool = True
    package_name: str | None = Field(default=None, max_length=224, description="ONE_TAP: your Android app.")
    signature_hash: str | None = Field(
        default=None, max_length=11, description="ONE_TAP: its signature hash."
    )


class SmsText(Strict):
    body: str = Field(min_length=1, max_length=1600)


class EmailText(Strict):
    subject: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=10000)


class OwnTexts(Strict):
    sms: dict[str, SmsText] = Field(default_factory=dict, description="By locale.")
    email: dict[str, EmailText] = Field(default_factory=dict, description="By locale.")


class SettingsUpdate(Strict):
    sms_allowed_countries: list[str] | None = Field(
        default=None,
        description="ISO 3166 country codes SMS codes may go to ([] allows none); null allows every country.",
    )
    templates: OwnTexts | None = None
    new_code_per_channel: bool | None = None

    @field_validator("sms_allowed_countries")
    @classmethod
    def _countries(cls, countries: list[str] | None) -> list[str] | None:
        if countries is None:
            return None
        upper = [country.upper() for country in countries]
        for country in upper:
            if len(country) != 2 or not country.isalpha():
                raise ValueError(f"'{country}' is not a two-letter ISO 3166 country code")
        return sorted(set(upper))


class SettingsOut(BaseModel):
    sms_allowed_countries: list[str] | None
    templates: dict[str, Any]
    new_code_per_channel: bool


class ReportRow(BaseModel):
    channel: str
    verifications: int
    approved: int
    conversion_rate: float
    """approved / verifications whose latest attempt was on this channel."""


class ReportOut(BaseModel):
    data: list[ReportRow]
