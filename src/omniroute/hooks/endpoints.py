from typing import Annotated

from fastapi import Header, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel

from omniroute.core.deps import SessionDep
from omniroute.core.http import api_router
from omniroute.core.openapi import error_responses
from omniroute.hooks import service
from omniroute.providers.registry import META, TWILIO
from omniroute.services import ServicesDep, wake_workers_after_commit

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


EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
"""Twilio expects TwiML back from an inbound SMS webhook: an empty one replies nothing."""


@router.post(
    "/twilio/{channel_id}",
    summary="Twilio's status callbacks and inbound SMS",
    responses={**error_responses(403), 200: {"content": {"text/xml": {}}}},
    response_class=Response,
    description="X-Twilio-Signature checked over the URL Twilio called (OMNIROUTE_PUBLIC_BASE_URL "
    "plus the path, when set) and the form parameters, with the channel's auth_token; a bad "
    "signature is 403 and changes nothing. Stored, then applied after the response; a repeated "
    "delivery changes nothing.",
)
async def receive_twilio(
    channel_id: str,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    signature: Annotated[str | None, Header(alias="X-Twilio-Signature")] = None,
) -> Response:
    channel = await service.channel_for_hook(session, TWILIO, channel_id)
    body = await request.body()
    public = services.settings.public_base_url
    url = (
        public.rstrip("/") + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if public
        else str(request.url)
    )
    service.verify_twilio_signature(channel, url, body, signature)
    if await service.receive(session, channel, body):
        wake_workers_after_commit(request)
    return Response(EMPTY_TWIML, media_type="text/xml")
