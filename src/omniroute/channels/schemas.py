from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from omniroute.channels.models import Channel, ChannelStatus, ChannelType

SECRET_FIELDS = frozenset(
    {"access_token", "app_secret", "verify_token", "password", "api_key", "auth_token", "secret"}
)


def mask_config(config: dict[str, Any]) -> dict[str, Any]:
    """Secrets are never echoed: only their last four characters are shown."""
    return {
        key: (f"****{str(value)[-4:]}" if key in SECRET_FIELDS and value else value)
        for key, value in config.items()
    }


class ChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: ChannelType
    name: str = Field(min_length=1, max_length=200)
    provider: str = Field(min_length=1, max_length=32)
    address: str | None = Field(
        default=None, max_length=320, description="Phone number, sender id or email address."
    )
    config: dict[str, Any] = Field(default_factory=dict)


class ChannelUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: Literal["active", "disabled"] | None = None
    config: dict[str, Any] | None = Field(
        default=None, description="Keys to change; secrets left out keep their stored value."
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
    created_at: datetime

    @classmethod
    def of(cls, channel: Channel) -> "ChannelOut":
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
