from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from omniroute.events.types import is_valid_filter
from omniroute.webhooks.models import WebhookAttempt, WebhookDelivery


def _valid_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PydanticCustomError(
            "parameter_invalid", "must be an absolute http or https URL, e.g. https://example.com/hooks"
        )
    return value


def _declared_filter(pattern: str) -> str:
    if not is_valid_filter(pattern):
        raise PydanticCustomError(
            "unknown_event_type",
            "unknown event type '{pattern}': use a declared type (e.g. message.delivered), "
            "'<group>.*' matching at least one of them (e.g. message.*) or '*'",
            {"pattern": pattern, "code": "unknown_event_type"},
        )
    return pattern


EventFilter = Annotated[str, AfterValidator(_declared_filter)]
"""One entry of ``events``: refused one by one, so the error names ``events.<index>``."""


def _distinct(value: list[str]) -> list[str]:
    return sorted(set(value), key=value.index)


class EndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048)
    events: list[EventFilter] = Field(
        default_factory=lambda: ["*"],
        min_length=1,
        max_length=50,
        description="Event types to receive: exact types, 'message.*' or '*' (default).",
    )
    description: str | None = Field(default=None, max_length=500)
    enabled: bool = True

    _url = field_validator("url")(_valid_url)
    _events = field_validator("events")(_distinct)


class EndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=1, max_length=2048)
    events: list[EventFilter] | None = Field(default=None, min_length=1, max_length=50)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = Field(default=None, description="Re-enabling clears an automatic disable.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _valid_url(value)

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _distinct(value)


class EndpointOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    url: str
    events: list[str]
    description: str | None
    enabled: bool
    disabled_reason: str | None
    mode: str
    created_at: datetime


class EndpointWithSecret(EndpointOut):
    secret: str = Field(description="Shown only now: store it to verify signatures.")


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    status_code: int | None
    duration_ms: float
    response_excerpt: str | None
    error: str | None
    manual: bool
    created_at: datetime


class DeliveryOut(BaseModel):
    id: str
    object: Literal["webhook_delivery"] = "webhook_delivery"
    endpoint_id: str
    event_id: str
    event_type: str
    status: Literal["pending", "succeeded", "failed"]
    next_attempt_at: datetime | None
    attempts: list[AttemptOut] = Field(description="Every attempt, oldest first.")
    created_at: datetime

    @classmethod
    def of(cls, delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> "DeliveryOut":
        return cls(
            id=delivery.id,
            endpoint_id=delivery.endpoint_id,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            status=delivery.status,
            next_attempt_at=delivery.next_attempt_at,
            attempts=[AttemptOut.model_validate(a) for a in attempts],
            created_at=delivery.created_at,
        )
