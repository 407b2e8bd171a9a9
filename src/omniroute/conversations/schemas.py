from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from omniroute.contacts.models import Contact
from omniroute.conversations.models import Conversation
from omniroute.policy.window import Window


class WindowOut(BaseModel):
    state: Literal["open", "closed"]
    last_inbound_at: datetime | None
    expires_at: datetime | None

    @classmethod
    def of(cls, window: Window) -> "WindowOut":
        return cls(
            state=window.state.value, last_inbound_at=window.last_inbound_at, expires_at=window.expires_at
        )

    @classmethod
    def of_optional(cls, window: Window | None) -> "WindowOut | None":
        return None if window is None else cls.of(window)


class ContactRef(BaseModel):
    id: str
    address: str
    name: str | None


class EntryPointOut(BaseModel):
    free_until: datetime | None


class ConversationOut(BaseModel):
    id: str
    object: Literal["conversation"] = "conversation"
    channel_id: str
    contact: ContactRef
    window: WindowOut | None = Field(
        description="The customer service window; null on channel types without one (all but WhatsApp)."
    )
    entry_point: EntryPointOut
    last_message_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, conversation: Conversation, contact: Contact, window: Window | None) -> "ConversationOut":
        return cls(
            id=conversation.id,
            channel_id=conversation.channel_id,
            contact=ContactRef(id=contact.id, address=contact.address, name=contact.name),
            window=WindowOut.of_optional(window),
            entry_point=EntryPointOut(free_until=conversation.entry_point_free_until),
            last_message_at=conversation.last_message_at,
            created_at=conversation.created_at,
        )
