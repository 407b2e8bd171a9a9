from typing import Annotated

from fastapi import Depends, Query, Response

from omniroute.channels import service
from omniroute.channels.models import Channel, ChannelType
from omniroute.channels.schemas import ChannelCheckOut, ChannelCreate, ChannelOut, ChannelUpdate
from omniroute.core.deps import SessionDep, end_transaction_before_provider_call
from omniroute.core.http import api_router
from omniroute.core.pagination import Page, PageParams, page_params, paginate
from omniroute.services import ServicesDep
from omniroute.workspaces.auth import Auth

router = api_router(prefix="/channels", tags=["channels"])


@router.post("", status_code=201, summary="Create a channel")
async def create_channel(
    body: ChannelCreate, auth: Auth, session: SessionDep, services: ServicesDep
) -> ChannelOut:
    return ChannelOut.of(await service.create(session, auth, body, services.providers))


@router.get("", summary="Fetch channels")
async def list_channels(
    auth: Auth,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
    type: Annotated[ChannelType | None, Query(description="Only channels of this type.")] = None,
) -> Page[ChannelOut]:
    statement = service.scoped(auth)
    if type is not None:
        statement = statement.where(Channel.type == type)
    rows, has_more, cursor = await paginate(session, statement, Channel.id, page)
    return Page(data=[ChannelOut.of(c) for c in rows], has_more=has_more, next_cursor=cursor)


@router.get("/{channel_id}", summary="Fetch a channel by id")
async def get_channel(channel_id: str, auth: Auth, session: SessionDep) -> ChannelOut:
    return ChannelOut.of(await service.get(session, auth, channel_id))


@router.patch("/{channel_id}", summary="Update a channel")
async def update_channel(
    channel_id: str, body: ChannelUpdate, auth: Auth, session: SessionDep, services: ServicesDep
) -> ChannelOut:
    channel = await service.update(await service.get(session, auth, channel_id), body, services.providers)
    await session.flush()
    return ChannelOut.of(channel)


@router.post(
    "/{channel_id}/check",
    summary="Check a channel's provider credentials",
    description="Calls the provider now. `credentials_rejected` marks the channel; `ok` clears that "
    "mark; `unreachable` changes nothing.",
)
async def check_channel(
    channel_id: str, auth: Auth, session: SessionDep, services: ServicesDep
) -> ChannelCheckOut:
    channel = await service.get(session, auth, channel_id)
    await end_transaction_before_provider_call(session)
    return await service.check(channel, services.providers, services.settings.provider_timeout_seconds)


@router.delete("/{channel_id}", status_code=204, summary="Delete a channel")
async def delete_channel(channel_id: str, auth: Auth, session: SessionDep) -> Response:
    channel = await service.get(session, auth, channel_id)
    channel.deleted_at = auth.now()
    return Response(status_code=204)
