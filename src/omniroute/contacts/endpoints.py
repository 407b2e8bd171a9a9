from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy import select

from omniroute.channels import service as channels
from omniroute.contacts import service
from omniroute.contacts.models import Contact, ContactOptOut
from omniroute.contacts.schemas import ContactOut, OptOutCreate, OptOutOut
from omniroute.core.deps import SessionDep
from omniroute.core.errors import not_found
from omniroute.core.http import api_router
from omniroute.core.pagination import Page, PageParams, page_params, paginate
from omniroute.workspaces.auth import Auth, AuthContext

router = api_router(prefix="/contacts", tags=["contacts"])


async def _get(session: SessionDep, auth: AuthContext, contact_id: str) -> Contact:
    contact = await session.scalar(
        select(Contact).where(
            Contact.id == contact_id, Contact.workspace_id == auth.workspace_id, Contact.mode == auth.mode
        )
    )
    if contact is None:
        raise not_found("contact", contact_id)
    return contact


async def _out(session: SessionDep, contact: Contact) -> ContactOut:
    opt_outs = await session.scalars(select(ContactOptOut).where(ContactOptOut.contact_id == contact.id))
    return ContactOut(
        id=contact.id,
        address=contact.address,
        name=contact.name,
        opt_outs=[
            OptOutOut(channel_id=o.channel_id, opted_out_at=o.opted_out_at, source=o.source) for o in opt_outs
        ],
        created_at=contact.created_at,
    )


@router.get("", summary="List contacts")
async def list_contacts(
    auth: Auth,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
    address: Annotated[str | None, Query(max_length=320, description="Exact E.164 number or email.")] = None,
) -> Page[ContactOut]:
    statement = select(Contact).where(Contact.workspace_id == auth.workspace_id, Contact.mode == auth.mode)
    if address:
        statement = statement.where(Contact.address == address)
    rows, has_more, cursor = await paginate(session, statement, Contact.id, page)
    return Page(data=[await _out(session, c) for c in rows], has_more=has_more, next_cursor=cursor)


@router.get("/{contact_id}", summary="Fetch a contact")
async def get_contact(contact_id: str, auth: Auth, session: SessionDep) -> ContactOut:
    return await _out(session, await _get(session, auth, contact_id))


@router.post("/{contact_id}/opt-outs", status_code=201, summary="Opt a contact out of a channel")
async def opt_out(contact_id: str, body: OptOutCreate, auth: Auth, session: SessionDep) -> ContactOut:
    contact = await _get(session, auth, contact_id)
    channel = await channels.get(session, auth, body.channel_id, param="channel_id")
    await service.opt_out(session, contact.id, channel.id, at=auth.now(), source="api")
    return await _out(session, contact)


@router.delete("/{contact_id}/opt-outs/{channel_id}", summary="Opt a contact back in to a channel")
async def opt_in(contact_id: str, channel_id: str, auth: Auth, session: SessionDep) -> ContactOut:
    contact = await _get(session, auth, contact_id)
    channel = await channels.get(session, auth, channel_id)
    await service.opt_in(session, contact.id, channel.id)
    return await _out(session, contact)
