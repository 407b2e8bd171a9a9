"""Which messages a list shows: the filters of ``GET /v1/messages`` and the dashboard's
message list, as one query."""

from dataclasses import dataclass

from sqlalchemy import Select, or_

from omniroute.contacts.models import Contact
from omniroute.core.tenancy import Tenant
from omniroute.messages.models import Direction, Message, MessageKind, MessageStatus
from omniroute.messages.service import scoped


@dataclass(frozen=True)
class MessageFilter:
    channel_id: str | None = None
    status: MessageStatus | None = None
    direction: Direction | None = None
    kind: MessageKind | None = None
    contact: str | None = None
    """A contact id or address."""
    campaign_id: str | None = None
    reference: str | None = None


def filtered(tenant: Tenant, where: MessageFilter) -> Select[Message]:
    statement = scoped(tenant)
    if where.channel_id:
        statement = statement.where(Message.channel_id == where.channel_id)
    if where.status:
        statement = statement.where(Message.status == where.status)
    if where.direction:
        statement = statement.where(Message.direction == where.direction)
    if where.kind:
        statement = statement.where(Message.kind == where.kind)
    if where.contact:
        statement = statement.join(Contact, Contact.id == Message.contact_id).where(
            or_(Contact.id == where.contact, Contact.address == where.contact)
        )
    if where.campaign_id:
        statement = statement.where(Message.campaign_id == where.campaign_id)
    if where.reference:
        statement = statement.where(Message.reference == where.reference)
    return statement
