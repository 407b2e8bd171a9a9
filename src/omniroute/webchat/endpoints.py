"""The public visitor API (``/widget/v1``, no API key) and the widget's two scripts.

Every request names its channel by ``?key=pk_...`` (the preflight too, so CORS is exact:
the preflight of a page not on the channel's ``allowed_origins`` gets no CORS headers);
a visitor's requests also carry its token (``Authorization: Bearer vt_...``), which opens
its own conversation and nothing else."""

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from omniroute.channels.models import Channel
from omniroute.core import targets
from omniroute.core.deps import SessionDep
from omniroute.core.errors import AuthenticationError, InvalidRequestError, PermissionDeniedError
from omniroute.core.http import api_router
from omniroute.core.openapi import error_responses
from omniroute.core.tenancy import Mode
from omniroute.services import ServicesDep
from omniroute.webchat import service, stream
from omniroute.webchat.delivery import WebChatContext
from omniroute.webchat.guard import (
    IP_LIMIT,
    MARKER_LIMIT,
    MESSAGE_LIMIT,
    SESSION_LIMIT,
    SUBSCRIPTION_LIMIT,
    Limit,
    allowed_origin,
    preflight_headers,
)
from omniroute.webchat.models import Visitor
from omniroute.webchat.schemas import (
    MarkerCreate,
    PushSubscriptionCreate,
    PushSubscriptionOut,
    SessionCreate,
    SessionOut,
    StreamTicketOut,
    VisitorMessageCreate,
    WidgetConfigOut,
    WidgetMessage,
    WidgetMessagePage,
)

router = api_router(prefix="/widget/v1", tags=["web chat visitors"], responses=error_responses(403, 404, 429))
scripts = APIRouter(include_in_schema=False)

KeyParam = Annotated[
    str, Query(min_length=4, max_length=60, description="The web channel's public key (`pk_...`).")
]
OriginHeader = Annotated[str | None, Header(alias="Origin", include_in_schema=False)]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _webchat(services: ServicesDep) -> WebChatContext:
    return services.providers.webchat


WebChatDep = Annotated[WebChatContext, Depends(_webchat)]


async def page_channel(
    request: Request, session: SessionDep, webchat: WebChatDep, key: KeyParam, origin: OriginHeader = None
) -> Channel:
    """The channel the page names, once the page's origin is one it allows (the
    response then carries that origin's CORS headers, errors included)."""
    channel = await service.channel_for_key(session, key)
    webchat.limits.hit(f"ip:{_client(request)}:{channel.id}", IP_LIMIT)
    request.state.cors_origin = allowed_origin(channel, origin)
    return channel


PageChannel = Annotated[Channel, Depends(page_channel)]


@dataclass(frozen=True)
class VisitorAuth:
    visitor: Visitor
    channel: Channel


async def visitor_auth(
    session: SessionDep,
    channel: PageChannel,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> VisitorAuth:
    visitor, _ = await service.visitor_for_token(session, service.bearer(authorization))
    if visitor.channel_id != channel.id:
        raise AuthenticationError("invalid_visitor_token", "This visitor token belongs to another chat.")
    return VisitorAuth(visitor, channel)


VisitorDep = Annotated[VisitorAuth, Depends(visitor_auth)]


def _limit(webchat: WebChatContext, visitor: Visitor, limit: Limit, what: str) -> None:
    webchat.limits.hit(f"{what}:{visitor.id}", limit)


@router.get("/config", summary="The widget's settings", responses=error_responses(404))
async def get_config(channel: PageChannel) -> WidgetConfigOut:
    return service.widget_config(channel)


@router.post("/sessions", status_code=201, summary="Start a visitor session", responses=error_responses(404))
async def create_session(
    body: SessionCreate,
    request: Request,
    session: SessionDep,
    webchat: WebChatDep,
    origin: OriginHeader = None,
) -> SessionOut:
    channel = await service.channel_for_key(session, body.public_key, param="public_key")
    client = f"{_client(request)}:{channel.id}"
    webchat.limits.hit_all(((f"ip:{client}", IP_LIMIT), (f"session:{client}", SESSION_LIMIT)))
    request.state.cors_origin = allowed_origin(channel, origin)
    visitor, token = await service.open_session(session, channel, body, origin)
    return SessionOut(visitor_id=visitor.id, token=token)


@router.post(
    "/messages", status_code=201, summary="Send the visitor's message", responses=error_responses(401)
)
async def post_message(
    body: VisitorMessageCreate, auth: VisitorDep, request: Request, session: SessionDep, webchat: WebChatDep
) -> WidgetMessage:
    _limit(webchat, auth.visitor, MESSAGE_LIMIT, "message")
    message = await service.receive(session, auth.channel, auth.visitor, body)
    await webchat.broker.publish_on_commit(
        session, request.state.after_commit, auth.visitor.id, message=message.id
    )
    return WidgetMessage.of(message)


@router.get("/messages", summary="The visitor's conversation", responses=error_responses(401))
async def get_messages(
    auth: VisitorDep,
    session: SessionDep,
    after: Annotated[str | None, Query(max_length=40, description="Only messages after this id.")] = None,
    limit: Annotated[int, Query(ge=1, le=service.PAGE_LIMIT)] = 50,
) -> WidgetMessagePage:
    rows, has_more = await service.list_messages(session, auth.visitor, after, limit)
    return WidgetMessagePage(data=[WidgetMessage.of(row) for row in rows], has_more=has_more)


@router.post(
    "/markers",
    status_code=204,
    summary="Typing, delivered and read markers",
    description="`typing`: the business gets `conversation.visitor_typing`. `delivered` / `read`: the "
    "business's messages up to `message_id` reached / were shown in the widget.",
    responses=error_responses(401),
)
async def post_marker(
    body: MarkerCreate, auth: VisitorDep, session: SessionDep, webchat: WebChatDep
) -> Response:
    _limit(webchat, auth.visitor, MARKER_LIMIT, "marker")
    await service.apply_marker(session, auth.channel, auth.visitor, body)
    return Response(status_code=204)


@router.post(
    "/push-subscriptions",
    status_code=201,
    summary="Subscribe the visitor's browser to Web Push",
    responses=error_responses(401),
)
async def post_push_subscription(
    body: PushSubscriptionCreate, auth: VisitorDep, session: SessionDep, services: ServicesDep
) -> PushSubscriptionOut:
    _limit(services.providers.webchat, auth.visitor, SUBSCRIPTION_LIMIT, "subscribe")
    await targets.require_allowed(
        body.endpoint, Mode(auth.channel.mode), services.settings, param="endpoint", code="url_forbidden"
    )
    row = await service.subscribe(session, auth.visitor, body)
    return PushSubscriptionOut(id=row.id, endpoint=row.endpoint, created_at=row.created_at)


@router.post(
    "/stream-tickets",
    status_code=201,
    summary="A ticket for the live stream's URL",
    description="EventSource cannot send an Authorization header: open "
    "`/widget/v1/stream?key=...&ticket=...` with this instead (valid 10 minutes, for reconnects too).",
    responses=error_responses(401),
)
async def post_stream_ticket(auth: VisitorDep) -> StreamTicketOut:
    ticket = service.stream_ticket(auth.visitor)
    return StreamTicketOut(ticket=ticket.ticket, expires_at=ticket.expires_at)


@router.get(
    "/stream",
    summary="Live messages (Server-Sent Events)",
    description="`event: message` with a widget message (its id is the event id); resumes after "
    "`Last-Event-ID` (or `last_event_id`). Authorised by `ticket` or the visitor token.",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}, **error_responses(401)},
)
async def get_stream(
    request: Request,
    session: SessionDep,
    channel: PageChannel,
    webchat: WebChatDep,
    ticket: Annotated[str | None, Query(max_length=500)] = None,
    last_event_id: Annotated[str | None, Query(max_length=40)] = None,
    last_event_header: Annotated[
        str | None, Header(alias="Last-Event-ID", max_length=40, include_in_schema=False)
    ] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> StreamingResponse:
    if ticket is not None:
        visitor, _ = await service.visitor_for_ticket(session, ticket)
    else:
        visitor, _ = await service.visitor_for_token(session, service.bearer(authorization))
    if visitor.channel_id != channel.id:
        raise AuthenticationError("invalid_visitor_token", "This visitor belongs to another chat.")
    resume = last_event_header or last_event_id
    if resume is not None and not resume.startswith("msg_"):
        raise InvalidRequestError(
            "parameter_invalid", "Last-Event-ID is a message id (msg_...).", param="last_event_id"
        )
    return StreamingResponse(
        stream.events(webchat, visitor, resume, stream.options_for(webchat)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.options("/{path:path}", include_in_schema=False)
async def preflight(
    request: Request, session: SessionDep, path: str, key: str | None = None, origin: OriginHeader = None
) -> Response:
    """CORS preflight: the channel's exact origin, or no CORS headers at all."""
    if key is None or origin is None:
        raise PermissionDeniedError(
            "origin_forbidden", "A preflight names the channel (?key=pk_...) and an Origin."
        )
    channel = await service.channel_for_key(session, key)
    allowed = allowed_origin(channel, origin)
    assert allowed is not None
    request.state.cors_origin = None  # the preflight's own headers below
    return Response(status_code=204, headers=preflight_headers(allowed))


@cache
def _script(name: str) -> bytes:
    return (files("omniroute.webchat") / "static" / name).read_bytes()


@scripts.get("/widget.js")
async def widget_js() -> Response:
    return Response(
        _script("widget.js"),
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


@scripts.get("/widget-sw.js")
async def widget_service_worker() -> Response:
    """Serve it from the site's own origin (a service worker must be same-origin with
    the page): copy it, or proxy this path."""
    return Response(
        _script("widget-sw.js"),
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=300", "Service-Worker-Allowed": "/"},
    )
