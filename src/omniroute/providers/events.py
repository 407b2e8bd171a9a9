"""What providers report back, in one provider-neutral shape.

Meta's webhooks, SMS delivery reports, bounces and the sandbox's simulation are all
turned into these events and applied by one service (``omniroute.ingest``)."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field


class ReportedError(BaseModel):
    code: str
    message: str
    provider_code: int | str | None = None


class StatusUpdate(BaseModel):
    type: Literal["status"] = "status"
    provider_message_id: str
    status: Literal["sent", "delivered", "read", "failed"]
    timestamp: datetime
    recipient: str
    client_reference: str | None = None
    """Our message id echoed back by the provider (Meta's ``biz_opaque_callback_data``);
    it matches a status to a message whose send response was lost."""
    error: ReportedError | None = None
    pricing: dict[str, Any] | None = None


class InboundMessage(BaseModel):
    type: Literal["inbound"] = "inbound"
    provider_message_id: str
    sender: str
    timestamp: datetime
    """The customer's own message time: the window is measured from it."""
    content_type: str
    content: dict[str, Any]
    profile_name: str | None = None
    referral: dict[str, Any] | None = None
    """Set when the customer came from an ad or Page call-to-action (free entry point)."""


class TemplateReview(BaseModel):
    type: Literal["template_review"] = "template_review"
    provider_template_id: str
    name: str
    language: str
    status: str
    reason: str | None = None
    suggested_category: str | None = None
    """The category the reviewer would approve, when it rejected the template's own."""
    timestamp: datetime


class TemplateCategoryUpdate(BaseModel):
    """Meta re-categorised a template: ``announced`` a day ahead, then ``completed``."""

    type: Literal["template_category_update"] = "template_category_update"
    provider_template_id: str | None = None
    name: str
    language: str
    previous_category: str
    new_category: str
    stage: Literal["announced", "completed"]
    timestamp: datetime


class TemplateQualityUpdate(BaseModel):
    type: Literal["template_quality_update"] = "template_quality_update"
    provider_template_id: str | None = None
    name: str
    language: str
    previous_score: str | None = None
    new_score: str
    timestamp: datetime


class ChannelQualityUpdate(BaseModel):
    """The phone number's quality rating, messaging tier or throughput changed."""

    type: Literal["channel_quality_update"] = "channel_quality_update"
    event: str
    """Meta's event name (FLAGGED, UNFLAGGED, UPGRADE, DOWNGRADE, ...)."""
    quality_rating: str | None = None
    messaging_tier: str | None = None
    throughput_per_second: int | None = None
    timestamp: datetime


class AccountNotice(BaseModel):
    """An account-level notice with no state of ours to change (capability and account
    updates, and fields we do not know yet); it is kept raw and logged."""

    type: Literal["account_notice"] = "account_notice"
    field: str
    value: dict[str, Any]
    timestamp: datetime


ProviderEvent = Annotated[
    StatusUpdate
    | InboundMessage
    | TemplateReview
    | TemplateCategoryUpdate
    | TemplateQualityUpdate
    | ChannelQualityUpdate
    | AccountNotice,
    Field(discriminator="type"),
]
