from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from omniroute.channels.models import Channel, ChannelStatus, ChannelType
from omniroute.core.secrets import SECRET_KEYS
from omniroute.policy.limits import MAX_THROUGHPUT_PER_SECOND
from omniroute.providers.widget.config import VAPID_PUBLIC_KEY, public_key_of

MASK = "****"
SHORTEST_HINTED_SECRET = 12
"""Secrets shorter than this show nothing of themselves: four characters of a short
token would give most of it away."""


def mask_secret(value: Any) -> str:
    text = str(value)
    return f"{MASK}{text[-4:]}" if len(text) >= SHORTEST_HINTED_SECRET else MASK


def mask_config(config: dict[str, Any]) -> dict[str, Any]:
    """Secrets are never echoed: a long one shows its last four characters."""
    return {
        key: mask_secret(value) if key in SECRET_KEYS and value else value for key, value in config.items()
    }


class ChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: ChannelType
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Required, except for a live meta channel (Meta's verified name is used).",
    )
    provider: str = Field(min_length=1, max_length=32)
    address: str | None = Field(
        default=None,
        max_length=320,
        description="Phone number, sender id or email address. A live meta channel reads its "
        "number from the Graph API when this is left out.",
    )
    config: dict[str, Any] = Field(default_factory=dict)


class ChannelUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: Literal["active", "disabled"] | None = None
    config: dict[str, Any] | None = Field(
        default=None, description="Keys to change; secrets left out keep their stored value."
    )
    throughput_per_second: int | None = Field(
        default=None,
        ge=1,
        le=MAX_THROUGHPUT_PER_SECOND,
        description="Messages per second every send on this channel is paced to (Meta's limit for the number).",
    )


class ChannelOut(BaseModel):
    id: str
    object: Literal["channel"] = "channel"
    type: ChannelType
    name: str
    provider: str
    status: ChannelStatus
    address: str
    mode: str
    throughput_per_second: int
    messaging_tier: str | None
    quality_rating: str | None
    config: dict[str, Any]
    public_key: str | None = Field(
        default=None, description="Web channels: the key the widget names the channel by (`pk_...`)."
    )
    vapid_public_key: str | None = Field(
        default=None, description="Web channels: the VAPID public key browsers subscribe to Web Push with."
    )
    created_at: datetime

    @classmethod
    def of(cls, channel: Channel) -> "ChannelOut":
        web = channel.type == ChannelType.WEB
        return cls(
            id=channel.id,
            type=channel.type,
            name=channel.name,
            provider=channel.provider,
            status=channel.status,
            address=channel.address,
            mode=channel.mode,
            throughput_per_second=channel.throughput_per_second,
            messaging_tier=channel.messaging_tier,
            quality_rating=channel.quality_rating,
            config=mask_config(channel.config or {}),
            public_key=public_key_of(channel.id) if web else None,
            vapid_public_key=(channel.config or {}).get(VAPID_PUBLIC_KEY) if web else None,
            created_at=channel.created_at,
        )


CheckResult = Literal["ok", "credentials_rejected", "unreachable", "error"]


class ChannelCheckOut(BaseModel):
    """What ``POST /v1/channels/{id}/check`` found. ``unreachable`` leaves the channel's
    status alone: a network problem says nothing about the credentials."""

    object: Literal["channel_check"] = "channel_check"
    result: CheckResult
    message: str | None
    provider_code: int | str | None
    channel: ChannelOut
