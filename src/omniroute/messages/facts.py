"""The rows a policy decision reads: opt-outs, conversations (the window), templates and
the count of conversations a business started (the messaging tier).

``Facts`` reads each one when asked, for a single send. ``BatchFacts`` reads them for a
whole batch of queued messages with a few queries, so dispatch checks every rule again
without a query per rule per message.
"""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Subquery, bindparam, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.channels.models import Channel, ChannelType
from omniroute.contacts import service as contacts
from omniroute.contacts.models import Contact, ContactOptOut
from omniroute.conversations import service as conversations
from omniroute.conversations.models import Conversation
from omniroute.core.tenancy import Tenant
from omniroute.messages.models import Message, MessageStatus
from omniroute.policy.limits import MESSAGING_LIMIT_PERIOD
from omniroute.templates import service as templates
from omniroute.templates.models import Template

_RECIPIENT = (
    select(Contact, ContactOptOut, Conversation)
    .outerjoin(
        ContactOptOut,
        (ContactOptOut.contact_id == Contact.id) & (ContactOptOut.channel_id == bindparam("channel_id")),
    )
    .outerjoin(
        Conversation,
        (Conversation.contact_id == Contact.id) & (Conversation.channel_id == bindparam("channel_id")),
    )
    .where(
        Contact.workspace_id == bindparam("workspace_id"),
        Contact.mode == bindparam("mode"),
        Contact.address == bindparam("address"),
    )
)
"""A contact with its opt-out from and conversation on one channel (built once: every send asks)."""


class Facts:
    """Reads what a decision needs, one query per question."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._found_conversations: dict[tuple[str, str], Conversation | None] = {}
        self._found_opt_outs: dict[tuple[str, str], ContactOptOut | None] = {}

    async def recipient(self, tenant: Tenant, address: str, channel_id: str) -> Contact:
        """The contact at ``address``, created if there is none, with its opt-out from and
        conversation on the channel read in the same query (a contact this call creates
        has neither): the send path's three questions in one round trip."""
        found = (
            await self.session.execute(
                _RECIPIENT,
                {
                    "workspace_id": tenant.workspace_id,
                    "mode": tenant.mode,
                    "address": address,
                    "channel_id": channel_id,
                },
            )
        ).first()
        if found is not None:
            contact, opt_out, conversation = found
        else:
            contact, created = await contacts.create(self.session, tenant.workspace_id, tenant.mode, address)
            if not created:  # a concurrent request created it: ask as for any other contact
                return contact
            opt_out, conversation = None, None
        self._found_opt_outs[(contact.id, channel_id)] = opt_out
        self._found_conversations[(channel_id, contact.id)] = conversation
        return contact

    async def opt_out(self, contact_id: str, channel_id: str) -> ContactOptOut | None:
        key = (contact_id, channel_id)
        if key not in self._found_opt_outs:
            self._found_opt_outs[key] = await contacts.opt_out_of(self.session, contact_id, channel_id)
        return self._found_opt_outs[key]

    async def conversation(self, channel_id: str, contact_id: str) -> Conversation | None:
        """Read once per pair: a template decision asks again after the window check."""
        key = (channel_id, contact_id)
        if key not in self._found_conversations:
            self._found_conversations[key] = await conversations.find(self.session, channel_id, contact_id)
        return self._found_conversations[key]

    async def template(self, channel_id: str, name: str, language: str) -> Template | None:
        return await templates.find_by_name(self.session, channel_id, name, language)

    async def others_started(self, tenant: Tenant, contact_id: str, now: datetime) -> int:
        """How many other customers the business started a conversation with in the rolling
        24 h of the messaging tier, on any of the workspace's WhatsApp numbers."""
        started = business_initiated(tenant, now)
        count = await self.session.scalar(
            select(func.count(distinct(started.c.contact_id))).where(started.c.contact_id != contact_id)
        )
        return count or 0


class BatchFacts(Facts):
    """Reads what the decisions for a batch of messages need up front: opt-outs and
    conversations in one query each, each template and tier count once per batch."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self._pairs: set[tuple[str, str]] = set()
        self._opt_outs: dict[tuple[str, str], ContactOptOut] = {}
        self._conversations: dict[tuple[str, str], Conversation] = {}
        self._templates: dict[tuple[str, str, str], Template | None] = {}
        self._started: dict[tuple[str, str], tuple[int, set[str]]] = {}

    async def prefetch(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Read the opt-outs and conversations of these (contact, channel) pairs."""
        self._pairs = set(pairs)
        contact_ids = {contact for contact, _ in self._pairs}
        channel_ids = {channel for _, channel in self._pairs}
        opt_outs = await self.session.scalars(
            select(ContactOptOut).where(
                ContactOptOut.contact_id.in_(contact_ids), ContactOptOut.channel_id.in_(channel_ids)
            )
        )
        self._opt_outs = {(row.contact_id, row.channel_id): row for row in opt_outs}
        found = await self.session.scalars(
            select(Conversation).where(
                Conversation.contact_id.in_(contact_ids), Conversation.channel_id.in_(channel_ids)
            )
        )
        self._conversations = {(row.contact_id, row.channel_id): row for row in found}

    async def opt_out(self, contact_id: str, channel_id: str) -> ContactOptOut | None:
        if (contact_id, channel_id) in self._pairs:
            return self._opt_outs.get((contact_id, channel_id))
        return await super().opt_out(contact_id, channel_id)

    async def conversation(self, channel_id: str, contact_id: str) -> Conversation | None:
        if (contact_id, channel_id) in self._pairs:
            return self._conversations.get((contact_id, channel_id))
        return await super().conversation(channel_id, contact_id)

    async def template(self, channel_id: str, name: str, language: str) -> Template | None:
        key = (channel_id, name, language)
        if key not in self._templates:
            self._templates[key] = await super().template(channel_id, name, language)
        return self._templates[key]

    async def others_started(self, tenant: Tenant, contact_id: str, now: datetime) -> int:
        key = (tenant.workspace_id, str(tenant.mode))
        if key not in self._started:
            started = business_initiated(tenant, now)
            total = await self.session.scalar(select(func.count(distinct(started.c.contact_id))))
            batch_contacts = {contact for contact, _ in self._pairs}
            among_batch = await self.session.scalars(
                select(started.c.contact_id).where(started.c.contact_id.in_(batch_contacts)).distinct()
            )
            self._started[key] = (total or 0, set(among_batch))
        total, counted = self._started[key]
        return total - (contact_id in counted)


def business_initiated(tenant: Tenant, now: datetime) -> Subquery:
    """The customers (and times) of the messages that started a conversation within the
    messaging tier's period (failed sends do not count)."""
    return (
        select(Message.contact_id, Message.created_at)
        .join(Channel, Channel.id == Message.channel_id)
        .where(
            Message.workspace_id == tenant.workspace_id,
            Message.mode == tenant.mode,
            Channel.type == ChannelType.WHATSAPP,
            Message.business_initiated.is_(True),
            Message.status != MessageStatus.FAILED,
            Message.created_at > now - MESSAGING_LIMIT_PERIOD,
        )
        .subquery()
    )
