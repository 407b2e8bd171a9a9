"""The provider interface: one abstract base per channel kind.

A provider instance serves one channel. It turns a provider-neutral
``OutboundMessage`` into the network's wire format and reports the result as a
``SendReceipt`` or a ``ProviderError`` subclass. Everything that happens later
(statuses, replies, template reviews) comes back as ``providers.events``.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from omniroute.channels.models import ChannelType
from omniroute.policy.limits import DEFAULT_THROUGHPUT_PER_SECOND


@dataclass(frozen=True)
class ChannelRef:
    """The parts of a channel a provider needs, detached from the database session."""

    id: str
    workspace_id: str
    mode: str
    type: ChannelType
    address: str
    config: dict[str, Any]
    throughput_per_second: int = DEFAULT_THROUGHPUT_PER_SECOND


@dataclass(frozen=True)
class TemplateSend:
    name: str
    language: str
    category: str
    components: list[dict[str, Any]]
    """Parameters in the provider's component shape (Meta's ``template.components``)."""


@dataclass(frozen=True)
class OutboundMessage:
    message_id: str
    """Our id. Providers that can echo a reference back (Meta's
    ``biz_opaque_callback_data``) send it, so statuses match even when a send's
    response was lost."""
    recipient: str
    content_type: str
    content: dict[str, Any] | None = None
    template: TemplateSend | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SendReceipt:
    provider_message_id: str
    provider_status: str = "accepted"
    parts: tuple[str, ...] = ()
    """An SMS sent as concatenated parts: each part's provider id, in order (delivery
    receipts name parts)."""
    route: str | None = None
    """How the provider got it there, when it has a choice (web chat: ``stream``, ``push``,
    ``stored``); kept as the ``sent`` status's detail."""


@dataclass(frozen=True)
class TemplateDefinition:
    name: str
    language: str
    category: str
    components: list[dict[str, Any]]
    message_send_ttl_seconds: int | None = None
    """Meta's time-to-live; None keeps the provider's default."""


@dataclass(frozen=True)
class SubmittedTemplate:
    provider_template_id: str
    status: str
    category: str


@dataclass(frozen=True)
class ProviderTemplate:
    provider_template_id: str
    name: str
    language: str
    category: str
    status: str
    components: list[dict[str, Any]]
    rejection_reason: str | None = None
    quality_score: str | None = None


@dataclass(frozen=True)
class ChannelFacts:
    """What the provider says about the channel itself (Meta: its phone number object).
    ``None`` is "not said": the channel keeps what it has."""

    address: str | None = None
    name: str | None = None
    quality_rating: str | None = None
    throughput_per_second: int | None = None
    messaging_tier: str | None = None


class Provider(ABC):
    """Sends messages on one channel."""

    name: ClassVar[str]
    channel_type: ClassVar[ChannelType]

    def __init__(self, channel: ChannelRef) -> None:
        self.channel = channel

    @abstractmethod
    async def send(self, message: OutboundMessage) -> SendReceipt:
        """Hand one message to the network. Raises a ``ProviderError`` subclass."""

    async def check(self) -> ChannelFacts | None:
        """Verify credentials (``ProviderAuthError`` if they are rejected) and return
        what the provider says about the channel, if it says anything."""
        return None


class WhatsAppProvider(Provider):
    channel_type = ChannelType.WHATSAPP

    @abstractmethod
    async def submit_template(self, template: TemplateDefinition) -> SubmittedTemplate:
        """Submit a template for review; the verdict arrives later as a ``TemplateReview``."""

    @abstractmethod
    async def delete_template(self, name: str, provider_template_id: str | None) -> None:
        """Delete a template (all its languages when Meta is asked by name)."""

    @abstractmethod
    async def list_templates(self) -> list[ProviderTemplate]:
        """Every template the provider holds for this account, all pages."""

    @abstractmethod
    async def edit_template(
        self, provider_template_id: str, template: TemplateDefinition
    ) -> SubmittedTemplate:
        """Submit new components for an existing template; it goes back to review."""

    @abstractmethod
    async def mark_read(self, provider_message_id: str) -> None:
        """Tell the customer their message was read (blue ticks)."""


class SmsProvider(Provider):
    channel_type = ChannelType.SMS


class EmailProvider(Provider):
    channel_type = ChannelType.EMAIL


class WebChatProvider(Provider):
    channel_type = ChannelType.WEB
