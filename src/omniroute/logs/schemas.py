from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from omniroute.events.models import Event
from omniroute.requestlog.models import RequestLogEntry


class RequestLogOut(BaseModel):
    id: str
    object: Literal["request"] = "request"
    request_id: str
    method: str
    path: str
    status: int
    duration_ms: float
    key_prefix: str | None
    idempotency_key: str | None
    created_at: datetime

    @classmethod
    def of(cls, entry: RequestLogEntry) -> "RequestLogOut":
        return cls(
            id=entry.id,
            request_id=entry.id,
            method=entry.method,
            path=entry.path,
            status=entry.status_code,
            duration_ms=entry.duration_ms,
            key_prefix=entry.key_prefix,
            idempotency_key=entry.idempotency_key,
            created_at=entry.created_at,
        )


class EventOut(BaseModel):
    id: str
    object: Literal["event"] = "event"
    type: str
    data: dict[str, Any] = Field(description="The resource as the API showed it when the event happened.")
    message_id: str | None
    campaign_id: str | None
    conversation_id: str | None
    template_id: str | None
    channel_id: str | None
    occurred_at: datetime = Field(
        description="When it happened, on the mode's clock (the test clock in test mode)."
    )
    created_at: datetime

    @classmethod
    def of(cls, event: Event) -> "EventOut":
        return cls(
            id=event.id,
            type=event.type,
            data=event.data,
            message_id=event.message_id,
            campaign_id=event.campaign_id,
            conversation_id=event.conversation_id,
            template_id=event.template_id,
            channel_id=event.channel_id,
            occurred_at=event.occurred_at,
            created_at=event.created_at,
        )


LogEntryOut = RequestLogOut | EventOut
