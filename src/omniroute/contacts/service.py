from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.contacts.models import Contact, ContactOptOut
from omniroute.core.ids import new_id
from omniroute.core.tenancy import Mode

OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "SUBSCRIBE"})


async def get_or_create(session: AsyncSession, workspace_id: str, mode: Mode, address: str) -> Contact:
    contact = await find(session, workspace_id, mode, address)
    if contact is None:
        contact = Contact(id=new_id("ct"), workspace_id=workspace_id, mode=mode, address=address)
        session.add(contact)
        await session.flush()
    return contact


async def find(session: AsyncSession, workspace_id: str, mode: Mode, address: str) -> Contact | None:
    return await session.scalar(
        select(Contact).where(
            Contact.workspace_id == workspace_id, Contact.mode == mode, Contact.address == address
        )
    )


async def opt_out_of(session: AsyncSession, contact_id: str, channel_id: str) -> ContactOptOut | None:
    return await session.get(ContactOptOut, (contact_id, channel_id))


async def opt_out(
    session: AsyncSession, contact_id: str, channel_id: str, *, at: datetime, source: str
) -> None:
    if await opt_out_of(session, contact_id, channel_id) is None:
        session.add(
            ContactOptOut(contact_id=contact_id, channel_id=channel_id, opted_out_at=at, source=source)
        )
        await session.flush()


async def opt_in(session: AsyncSession, contact_id: str, channel_id: str) -> None:
    existing = await opt_out_of(session, contact_id, channel_id)
    if existing is not None:
        await session.delete(existing)
        await session.flush()


def keyword(text: str) -> str:
    return text.strip().strip(".!").upper()
