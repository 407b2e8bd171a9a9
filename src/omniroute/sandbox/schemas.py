from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from omniroute.conversations.schemas import WindowOut
from omniroute.messages.schemas import MessageOut, TextContent
from omniroute.policy.templates import TemplateCategory, TemplateStatus
from omniroute.templates.schemas import TemplateComponent

TEN_YEARS = 10 * 366 * 24 * 3600


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UTCTimestamp = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""An RFC 3339 timestamp with its offset (a naive time is refused), kept in UTC."""


class SandboxInbound(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    channel_id: str = Field(min_length=1, max_length=40)
    from_: str = Field(alias="from", min_length=1, max_length=320)
    text: TextContent
    timestamp: UTCTimestamp | None = Field(
        default=None,
        description="When the customer sent it (default: now on the test clock). An earlier time "
        "plays a late webhook: it never moves the window backwards.",
    )
    referral: dict[str, Any] | None = Field(
        default=None, description="Set to simulate a Click-to-WhatsApp ad entry (free entry point)."
    )


class SandboxInboundOut(BaseModel):
    object: Literal["sandbox_inbound"] = "sandbox_inbound"
    message: MessageOut | None
    duplicate: bool
    window: WindowOut | None
    """null on channel types without a customer service window (all but WhatsApp)."""


class ClockAdvance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(gt=0, le=TEN_YEARS)


class ClockOut(BaseModel):
    object: Literal["sandbox_clock"] = "sandbox_clock"
    now: datetime
    offset_seconds: float


class SandboxTemplateCreate(BaseModel):
    """A template as made or changed in Meta's UI, outside omniroute (test mode)."""

    model_config = ConfigDict(extra="forbid")

    channel_id: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=2, max_length=16)
    category: TemplateCategory
    components: list[TemplateComponent] = Field(min_length=1)
    status: TemplateStatus = TemplateStatus.APPROVED
    quality_score: str | None = Field(default=None, max_length=16)


class SandboxTemplateOut(BaseModel):
    object: Literal["sandbox_template"] = "sandbox_template"
    id: str
    """The provider's template id."""
    channel_id: str
    name: str
    language: str
    category: str
    status: str
    components: list[dict[str, Any]]
    rejection_reason: str | None
    quality_score: str | None
