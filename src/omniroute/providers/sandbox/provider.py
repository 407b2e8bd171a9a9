"""Sandbox providers: accept every send like the real network would, then play the
simulation's script (statuses, replies, template reviews) as durable jobs that follow
the workspace's test clock. Nothing leaves the machine."""

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.channels.models import Channel, ChannelType
from omniroute.config import Settings
from omniroute.contacts import service as contacts
from omniroute.conversations import service as conversations
from omniroute.core.db import Database
from omniroute.core.phone import region_of
from omniroute.core.tenancy import Mode
from omniroute.jobs.queue import enqueue
from omniroute.policy import errors as meta_errors
from omniroute.policy.pricing import price_message
from omniroute.policy.templates import TemplateCategory, TemplateStatus
from omniroute.providers.base import (
    ChannelRef,
    EmailProvider,
    OutboundMessage,
    Provider,
    ProviderTemplate,
    SendReceipt,
    SmsProvider,
    SubmittedTemplate,
    TemplateDefinition,
    WebChatProvider,
    WhatsAppProvider,
)
from omniroute.providers.errors import ProviderRateLimited, ProviderRejected
from omniroute.providers.sandbox import templates as store
from omniroute.providers.sandbox.models import SandboxTemplate
from omniroute.providers.sandbox.network_rules import SendLimits
from omniroute.providers.sandbox.simulation import delivery_script, scenario_for
from omniroute.sms.encoding import shape
from omniroute.webchat.delivery import WebChatContext, deliver, is_visitor
from omniroute.workspaces.models import Workspace

EMIT_JOB = "sandbox.emit"


@dataclass(frozen=True)
class SandboxContext:
    db: Database
    settings: Settings
    limits: dict[str, SendLimits] = field(default_factory=dict)
    """Per channel: the simulated network's throughput and pair rate limits."""
    webchat: WebChatContext | None = None
    """Real visitors of a test-mode web channel chat through it (without Web Push)."""


def schedule_script(
    session: AsyncSession, channel: ChannelRef | Channel, script: list[tuple[float, dict[str, Any]]]
) -> None:
    """Schedule the first event of a simulated script; each event, once played,
    schedules the next (``after`` seconds are counted from the send), so the network's
    statuses arrive in order however many workers play them."""
    if not script:
        return
    (delay, event), *rest = script
    enqueue(
        session,
        EMIT_JOB,
        {"channel_id": channel.id, "event": event, "then": [[after - delay, e] for after, e in rest]},
        delay=delay,
        workspace_id=channel.workspace_id,
        mode=Mode(channel.mode),
    )


class _SandboxSender(Provider):
    name = "sandbox"
    id_prefix = "sbx"

    def __init__(self, channel: ChannelRef, context: SandboxContext) -> None:
        super().__init__(channel)
        self.context = context

    @property
    def mode(self) -> Mode:
        return Mode(self.channel.mode)

    async def send(self, message: OutboundMessage) -> SendReceipt:
        self._check_limits(message)
        provider_message_id = f"{self.id_prefix}.{secrets.token_hex(12)}"
        pricing = await self._pricing(message)
        interval = self.context.settings.sandbox_status_interval
        script: list[tuple[float, dict[str, Any]]] = []
        for step in delivery_script(scenario_for(message.recipient), self.channel.type):
            event: dict[str, Any]
            if step.kind == "status":
                event = {
                    "type": "status",
                    "provider_message_id": provider_message_id,
                    "status": step.status,
                    "recipient": message.recipient,
                    "client_reference": message.message_id,
                    "pricing": pricing if step.status in ("sent", "delivered") else None,
                    "error": step.failure.as_error() if step.failure else None,
                }
            else:
                event = {
                    "type": "inbound",
                    "provider_message_id": f"{self.id_prefix}.in.{secrets.token_hex(12)}",
                    "sender": message.recipient,
                    "content_type": "text",
                    "content": {"body": step.reply_text},
                }
            script.append((step.after * interval, event))
        async with self.context.db.transaction() as session:
            schedule_script(session, self.channel, script)
        return SendReceipt(provider_message_id)

    async def _pricing(self, message: OutboundMessage) -> dict[str, Any] | None:
        return None

    def _check_limits(self, message: OutboundMessage) -> None:
        """Only WhatsApp's network limits sends; other channels accept everything."""


class SandboxWhatsApp(_SandboxSender, WhatsAppProvider):
    id_prefix = "wamid.SBX"

    def _check_limits(self, message: OutboundMessage) -> None:
        """Meta's throughput and pair rate limits, shared with the emulator."""
        limits = self.context.limits.get(self.channel.id)
        if limits is None or limits.throughput.per_second != self.channel.throughput_per_second:
            # The simulated number allows what the channel says Meta gave it.
            limits = self.context.limits[self.channel.id] = SendLimits(self.channel.throughput_per_second)
        refusal = limits.refusal(message.recipient, time.monotonic())
        if refusal is not None:
            meaning = meta_errors.classify(refusal)
            raise ProviderRateLimited(
                meaning.meaning,
                code=meaning.our_code,
                provider_code=refusal,
                retry_after=limits.retry_after(refusal),
            )

    async def _pricing(self, message: OutboundMessage) -> dict[str, Any] | None:
        """Price the message the way Meta would from its own view of the window."""
        async with self.context.db.sessionmaker() as session:
            workspace = await session.get(Workspace, self.channel.workspace_id)
            assert workspace is not None
            now = workspace.now(self.mode)
            contact = await contacts.find(session, workspace.id, self.mode, message.recipient)
            conversation = await conversations.find(session, self.channel.id, contact.id) if contact else None
        category = TemplateCategory(message.template.category) if message.template else None
        return price_message(
            template_category=category,
            window_open=conversations.window_of(conversation, now).is_open,
            in_free_entry_point=conversations.in_free_entry_point(conversation, now),
            market=region_of(message.recipient),
            at=now,
        ).as_dict()

    async def submit_template(self, template: TemplateDefinition) -> SubmittedTemplate:
        async with self.context.db.transaction() as session:
            if await store.find(session, self.channel.id, template.name, template.language) is not None:
                raise ProviderRejected(
                    f"Template '{template.name}' ({template.language}) already exists on the account.",
                    code="template_exists",
                )
            return await self._store_for_review(session, template)

    async def edit_template(
        self, provider_template_id: str, template: TemplateDefinition
    ) -> SubmittedTemplate:
        async with self.context.db.transaction() as session:
            row = await session.get(SandboxTemplate, provider_template_id)
            if row is None or row.channel_id != self.channel.id:
                raise ProviderRejected(
                    f"Template {provider_template_id} does not exist on the account.",
                    code="template_not_found",
                )
            return await self._store_for_review(session, template)

    async def _store_for_review(
        self, session: AsyncSession, template: TemplateDefinition
    ) -> SubmittedTemplate:
        row = await store.put(session, self.channel, template, status=TemplateStatus.PENDING)
        store.schedule_review(session, row, self.context.settings.sandbox_template_review_seconds)
        return SubmittedTemplate(row.id, TemplateStatus.PENDING.value, template.category)

    async def delete_template(self, name: str, provider_template_id: str | None) -> None:
        async with self.context.db.transaction() as session:
            await store.remove(session, self.channel.id, name, provider_template_id)

    async def list_templates(self) -> list[ProviderTemplate]:
        templates: list[ProviderTemplate] = []
        cursor: str | None = None
        async with self.context.db.sessionmaker() as session:
            while True:
                page, cursor = await store.page(session, self.channel.id, cursor)
                templates.extend(page)
                if cursor is None:
                    return templates

    async def mark_read(self, provider_message_id: str) -> None:
        """The sandbox's simulated customers do not watch for read receipts."""


class SandboxSms(_SandboxSender, SmsProvider):
    id_prefix = "SMSBX"

    async def send(self, message: OutboundMessage) -> SendReceipt:
        """Like any sandbox send, with one id per segment (part 1 keeps the message's id),
        so the simulated delivery reports name parts like an SMSC's."""
        receipt = await super().send(message)
        segments = shape(str((message.content or {}).get("body", ""))).segments
        first = receipt.provider_message_id
        return SendReceipt(first, parts=(first, *(f"{first}.{n}" for n in range(2, segments + 1))))


class SandboxEmail(_SandboxSender, EmailProvider):
    id_prefix = "email.sbx"


class SandboxWebChat(_SandboxSender, WebChatProvider):
    """A real visitor (one that opened the widget) gets the message in their widget, as
    in live mode but never by Web Push; any other recipient plays the simulation
    (``vis_0001`` is unreachable, ...)."""

    id_prefix = "web.sbx"

    async def send(self, message: OutboundMessage) -> SendReceipt:
        webchat = self.context.webchat
        if webchat is not None and await is_visitor(self.context.db, self.channel.id, message.recipient):
            return await deliver(webchat, self.channel, message, push_enabled=False)
        return await super().send(message)


SANDBOX_PROVIDERS: dict[ChannelType, type[_SandboxSender]] = {
    ChannelType.WHATSAPP: SandboxWhatsApp,
    ChannelType.SMS: SandboxSms,
    ChannelType.EMAIL: SandboxEmail,
    ChannelType.WEB: SandboxWebChat,
}
