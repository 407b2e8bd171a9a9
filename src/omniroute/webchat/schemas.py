from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from omniroute.messages.models import Direction, Message

TEXT_MAX_LENGTH = 4000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VisitorDetails(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)


class SessionCreate(Strict):
    public_key: str = Field(min_length=4, max_length=60, description="The web channel's `pk_...` key.")
    visitor: VisitorDetails | None = None


class SessionOut(BaseModel):
    object: Literal["widget_session"] = "widget_session"
    visitor_id: str
    token: str = Field(description="Send as `Authorization: Bearer <token>`; shown once, stored hashed.")


class WidgetConfigOut(BaseModel):
    object: Literal["widget_config"] = "widget_config"
    public_key: str
    title: str
    greeting: str
    color: str
    vapid_public_key: str | None


class VisitorMessageCreate(Strict):
    text: str = Field(min_length=1, max_length=TEXT_MAX_LENGTH)


class WidgetMessage(BaseModel):
    """A message as the widget shows it: who wrote it, and its content by type."""

    id: str
    object: Literal["widget_message"] = "widget_message"
    author: Literal["visitor", "business"]
    type: str
    content: dict[str, Any]
    status: str
    created_at: datetime

    @classmethod
    def of(cls, message: Message) -> "WidgetMessage":
        return cls(
            id=message.id,
            author="visitor" if message.direction == Direction.INBOUND else "business",
            type=message.content_type,
            content=message.content or {},
            status=message.status,
            created_at=message.created_at,
        )


class WidgetMessagePage(BaseModel):
    object: Literal["list"] = "list"
    data: list[WidgetMessage]
    has_more: bool


class MarkerCreate(Strict):
    type: Literal["typing", "delivered", "read"]
    message_id: str | None = Field(
        default=None,
        max_length=40,
        description="`delivered` and `read`: every business message up to this one (required).",
    )


class StreamTicketOut(BaseModel):
    object: Literal["stream_ticket"] = "stream_ticket"
    ticket: str = Field(description="`GET /widget/v1/stream?ticket=...` (EventSource cannot send headers).")
    expires_at: datetime


class PushKeys(Strict):
    p256dh: str = Field(min_length=80, max_length=100, pattern=r"^[A-Za-z0-9_-]+=*$")
    auth: str = Field(min_length=16, max_length=30, pattern=r"^[A-Za-z0-9_-]+=*$")


class PushSubscriptionCreate(Strict):
    endpoint: str = Field(pattern=r"^https?://[^\s]+$", max_length=2048)
    keys: PushKeys


class PushSubscriptionOut(BaseModel):
    id: str
    object: Literal["push_subscription"] = "push_subscription"
    endpoint: str
    created_at: datetime
