from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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
    model_config = ConfigDict(from_attributes=True)

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


LogEntryOut = RequestLogOut | EventOut
