from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from omniroute.conversations.schemas import WindowOut
from omniroute.messages.schemas import MessageOut, TextContent

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
    window: WindowOut


class ClockAdvance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(gt=0, le=TEN_YEARS)


class ClockOut(BaseModel):
    object: Literal["sandbox_clock"] = "sandbox_clock"
    now: datetime
    offset_seconds: float
