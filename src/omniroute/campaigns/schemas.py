from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from omniroute.campaigns.models import CampaignStatus, OnLimit
from omniroute.messages.email import EmailContent
from omniroute.messages.schemas import TextContent

MAX_JSON_RECIPIENTS = 10_000
"""A larger list is uploaded as CSV (``multipart/form-data``), which is streamed."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CampaignTemplate(Strict):
    name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=2, max_length=16)


class RecipientIn(Strict):
    to: str = Field(min_length=1, max_length=320)
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="This recipient's template parameters, as in POST /v1/messages; for an SMS or email "
        "campaign, the value of each {{variable}} of its text by name.",
    )
    reference: str | None = Field(default=None, max_length=200)


class CampaignSettings(Strict):
    channel_id: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    template: CampaignTemplate | None = Field(default=None, description="WhatsApp: the approved template.")
    text: TextContent | None = Field(
        default=None, description="SMS: the text, with {{variable}} placeholders filled per recipient."
    )
    email: EmailContent | None = Field(
        default=None,
        description="Email: subject and text and/or html, with {{variable}} placeholders filled per "
        "recipient (HTML-escaped in html); no attachments.",
    )
    category: Literal["marketing", "utility"] | None = Field(
        default=None,
        description="SMS and email: what the campaign is (default marketing: opt-outs and the marketing "
        "frequency cap apply). A WhatsApp campaign's category is its template's.",
    )
    schedule_at: datetime | None = Field(
        default=None, description="When to start (the workspace clock; the test clock in test mode)."
    )
    on_limit: OnLimit = Field(
        default=OnLimit.WAIT,
        description="A recipient beyond the messaging tier waits for the next free slot ('wait') or is "
        "skipped with messaging_limit_reached ('fail').",
    )


class CampaignCreate(CampaignSettings):
    recipients: list[RecipientIn] = Field(min_length=1, max_length=MAX_JSON_RECIPIENTS)


class Money(BaseModel):
    amount: str
    currency: str


class CampaignCounts(BaseModel):
    total: int
    queued: int = Field(description="Not yet handed to the provider (including messages not made yet).")
    sent: int = Field(description="Handed over and accepted (sent, delivered or read).")
    delivered: int = Field(description="Delivered or read.")
    read: int
    failed: int
    replied: int = Field(description="The customer wrote back after the campaign message.")
    skipped: int = Field(description="Never sent: invalid, duplicate, opted out, over a limit...")
    frequency_capped: int = Field(
        description="Of the skipped: a marketing message to someone who got one from this workspace "
        "within the marketing frequency cap."
    )
    cancelled: int


class CampaignOut(BaseModel):
    id: str
    object: Literal["campaign"] = "campaign"
    channel_id: str
    name: str
    category: str = Field(description="MARKETING, UTILITY or AUTHENTICATION.")
    template: dict[str, Any] | None = Field(description="WhatsApp campaigns.")
    content: dict[str, Any] | None = Field(description="SMS and email campaigns: their text or email.")
    status: CampaignStatus
    paused_reason: str | None
    on_limit: OnLimit
    schedule_at: datetime | None
    counts: CampaignCounts
    cost: Money
    started_at: datetime | None
    completed_at: datetime | None
    created_at: datetime


class RecipientOut(BaseModel):
    id: str
    object: Literal["campaign_recipient"] = "campaign_recipient"
    row: int
    to: str
    reference: str | None
    status: str = Field(description="skipped, pending, cancelled, or its message's status.")
    reason: str | None = Field(description="Why it was skipped or failed (an error code).")
    detail: str | None
    message_id: str | None


class CountryCost(BaseModel):
    country: str
    category: str
    messages: int
    billable: int
    cost: Money


class CampaignEstimate(BaseModel):
    object: Literal["campaign_estimate"] = "campaign_estimate"
    recipients: int
    valid: int
    invalid: int
    duplicates: int
    opted_out: int
    parameter_mismatches: int
    frequency_capped: int = Field(
        description="Valid recipients a marketing campaign would skip now: they got a marketing message "
        "from this workspace within the marketing frequency cap (not in the cost or time)."
    )
    in_open_window: int = Field(
        description="WhatsApp: valid recipients whose 24 h window is open (utility is free there)."
    )
    beyond_messaging_limit: int = Field(
        description="WhatsApp: recipients the tier would not let start a conversation in the next 24 h."
    )
    messaging_limit: int | None
    category: str
    cost: Money
    cost_by_country: list[CountryCost]
    throughput_per_second: float
    seconds_to_send: float


class UsageRow(BaseModel):
    key: str
    messages: int
    billable: int
    cost: Money


class UsageOut(BaseModel):
    object: Literal["usage"] = "usage"
    group_by: str
    data: list[UsageRow]
