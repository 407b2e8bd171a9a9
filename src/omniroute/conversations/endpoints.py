from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy import select

from omniroute.channels import service as channels
from omniroute.channels.models import Channel
from omniroute.contacts import service as contacts
from omniroute.contacts.models import Contact
from omniroute.conversations import service
from omniroute.conversations.models import Conversation
from omniroute.conversations.schemas import ConversationOut, WindowOut
from omniroute.core.deps import SessionDep
from omniroute.core.errors import not_found
from omniroute.core.http import api_router
from omniroute.core.openapi import error_responses
from omniroute.core.pagination import Page, PageParams, page_params, paginate
from omniroute.messages.service import recipient_address
from omniroute.workspaces.auth import Auth

router = api_router(tags=["conversations"])


@router.get(
    "/channels/{channel_id}/window",
    summary="The customer service window for one recipient",
    responses=error_responses(409),  # window_not_applicable: windows are a WhatsApp rule
)
async def get_window(
    channel_id: str,
    to: Annotated[str, Query(min_length=1, max_length=320, description="The customer, in any common form.")],
    auth: Auth,
    session: SessionDep,
) -> WindowOut:
    channel = await channels.get(session, auth, channel_id)
    service.require_window(channel)
    contact = await contacts.find(session, auth.workspace_id, auth.mode, recipient_address(channel, to))
    conversation = await service.find(session, channel.id, contact.id) if contact else None
    return WindowOut.of(service.window_of(conversation, auth.now()))


@router.get("/conversations", summary="List conversations")
async def list_conversations(
    auth: Auth,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
    channel_id: str | None = None,
    contact: Annotated[str | None, Query(description="Contact id or address.")] = None,
) -> Page[ConversationOut]:
    statement = select(Conversation).where(
        Conversation.workspace_id == auth.workspace_id, Conversation.mode == auth.mode
    )
    if channel_id:
        statement = statement.where(Conversation.channel_id == channel_id)
    if contact:
        statement = statement.join(Contact, Contact.id == Conversation.contact_id).where(
            (Contact.id == contact) | (Contact.address == contact)
        )
    rows, has_more, cursor = await paginate(session, statement, Conversation.id, page)
    return Page(data=[await _out(session, auth, c) for c in rows], has_more=has_more, next_cursor=cursor)


@router.get("/conversations/{conversation_id}", summary="Fetch a conversation")
async def get_conversation(conversation_id: str, auth: Auth, session: SessionDep) -> ConversationOut:
    conversation = await session.scalar(
        select(Conversation).where(
            Conversation.id == conversation_id,
            Conversation.workspace_id == auth.workspace_id,
            Conversation.mode == auth.mode,
        )
    )
    if conversation is None:
        raise not_found("conversation", conversation_id)
    return await _out(session, auth, conversation)


async def _out(session: SessionDep, auth: Auth, conversation: Conversation) -> ConversationOut:
    contact = await session.get(Contact, conversation.contact_id)
    channel = await session.get(Channel, conversation.channel_id)
    assert contact is not None and channel is not None
    return ConversationOut.of(
        conversation, contact, service.window_on(channel.type, conversation, auth.now())
    )
