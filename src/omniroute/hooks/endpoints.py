from typing import Annotated

from fastapi import Header, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from omniroute.core.deps import SessionDep
from omniroute.core.http import api_router
from omniroute.core.openapi import error_responses
from omniroute.hooks import service
from omniroute.providers.registry import META
from omniroute.services import wake_workers_after_commit

router = api_router(prefix="/hooks", tags=["provider webhooks"])


class Received(BaseModel):
    received: bool = True
    duplicate: bool


@router.get(
    "/meta/{channel_id}",
    summary="Meta's webhook verification handshake",
    responses=error_responses(403),
    response_class=PlainTextResponse,
)
async def verify_meta(
    channel_id: str,
    session: SessionDep,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=1000)] = "",
) -> PlainTextResponse:
    channel = await service.channel_for_hook(session, META, channel_id)
    service.verify_subscription(channel, mode, token)
    return PlainTextResponse(challenge)


@router.post(
    "/meta/{channel_id}",
    summary="Meta's webhook",
    responses=error_responses(401),
    description="Signature checked over the raw body with the channel's app_secret; the body is "
    "stored and applied after the response. A repeated delivery changes nothing.",
)
async def receive_meta(
    channel_id: str,
    request: Request,
    session: SessionDep,
    signature: Annotated[str | None, Header(alias="X-Hub-Signature-256")] = None,
) -> Received:
    channel = await service.channel_for_hook(session, META, channel_id)
    body = await request.body()
    service.verify_signature(channel, body, signature)
    stored = await service.receive(session, channel, body)
    if stored:
        wake_workers_after_commit(request)
    return Received(duplicate=not stored)
