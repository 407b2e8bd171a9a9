from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.contacts.models import Contact, ContactOptOut
from omniroute.core.ids import new_id
from omniroute.core.tenancy import Mode
from omniroute.core.upsert import get_or_insert, insert_if_absent, insert_or_get

OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "SUBSCRIBE"})


async def get_or_create(session: AsyncSession, workspace_id: str, mode: Mode, address: str) -> Contact:
    return await get_or_insert(
        session, _lookup(workspace_id, mode, address), Contact, _new(workspace_id, mode, address)
    )


async def create(session: AsyncSession, workspace_id: str, mode: Mode, address: str) -> tuple[Contact, bool]:
    """The contact at an address just found to have none: created, or the one a concurrent
    request created first; True if this call created it."""
    return await insert_or_get(
        session, lambda: _lookup(workspace_id, mode, address), Contact, _new(workspace_id, mode, address)
    )


def _new(workspace_id: str, mode: Mode, address: str) -> dict[str, object]:
    return {"id": new_id("ct"), "workspace_id": workspace_id, "mode": mode, "address": address}


async def find(session: AsyncSession, workspace_id: str, mode: Mode, address: str) -> Contact | None:
    return await session.scalar(_lookup(workspace_id, mode, address))


def _lookup(workspace_id: str, mode: Mode, address: str) -> Select[Contact]:
    return select(Contact).where(
        Contact.workspace_id == workspace_id, Contact.mode == mode, Contact.address == address
    )


async def opt_out_of(session: AsyncSession, contact_id: str, channel_id: str) -> ContactOptOut | None:
    return await session.get(ContactOptOut, (contact_id, channel_id))


async def opt_out(
    session: AsyncSession, contact_id: str, channel_id: str, *, at: datetime, source: str
) -> None:
    await insert_if_absent(
        session,
        ContactOptOut,
        {"contact_id": contact_id, "channel_id": channel_id, "opted_out_at": at, "source": source},
    )


async def opt_in(session: AsyncSession, contact_id: str, channel_id: str) -> None:
    existing = await opt_out_of(session, contact_id, channel_id)
    if existing is not None:
        await session.delete(existing)
        await session.flush()


def keyword(text: str) -> str:
    return text.strip().strip(".!").upper()
