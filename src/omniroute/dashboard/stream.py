"""``GET /dashboard/stream``: the live parts of the open page, as Server-Sent Events.

The page names what it shows live (``?watch=message:msg_…&watch=campaign:cmp_…``; also
``campaign-detail:cmp_…``, ``window:cnv_…``, ``reply:cnv_…``); the stream looks every
``POLL_SECONDS`` in one short transaction (the session's key opened again, so a revoked key ends it), renders each
watched part, and sends a part when it changed since the last look, and each one at the start unless
the page said which state it shows (``reply:cnv_…:open``: a reply box, which may hold
what the viewer is typing, is replaced only when the window opens or closes): ``event: swap`` with
``{"target": <element id>, "html": <fragment>}``, which ``dashboard.js`` puts in place.
It ends after ``MAX_STREAM_SECONDS``; the browser reconnects on its own."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.campaigns import service as campaigns
from omniroute.campaigns.models import Campaign
from omniroute.core.errors import AuthenticationError
from omniroute.dashboard import service
from omniroute.dashboard.render import DashboardRoute, fragment
from omniroute.dashboard.session import ViewerDep
from omniroute.messages import service as messages
from omniroute.messages.models import Message
from omniroute.services import services_of
from omniroute.webchat.stream import sse
from omniroute.workspaces.auth import AuthContext, resolve_key

POLL_SECONDS = 2.0
MAX_STREAM_SECONDS = 300.0
MAX_WATCHED = 200
RETRY_MILLISECONDS = 2000

stream_router = APIRouter(prefix="/dashboard", route_class=DashboardRoute, include_in_schema=False)


async def _part(
    db: AsyncSession, auth: AuthContext, csrf: str, kind: str, identifier: str
) -> tuple[str, str, str] | None:
    """The watched part as (element id, fingerprint, html); None when it is not the viewer's."""
    if kind == "message":
        message = await db.scalar(messages.scoped(auth).where(Message.id == identifier))
        if message is None:
            return None
        html = fragment("_status.html", message=message)
        return f"status-{message.id}", html, html
    if kind in ("campaign", "campaign-detail"):
        campaign = await db.scalar(campaigns.scoped(auth).where(Campaign.id == identifier))
        if campaign is None:
            return None
        out = await campaigns.to_out(db, campaign)
        if kind == "campaign":
            html = fragment("_progress.html", campaign=out)
            return f"progress-{campaign.id}", html, html
        html = fragment("_campaign_detail.html", campaign=out, csrf=csrf)
        return f"detail-{campaign.id}", html, html
    if kind in ("window", "reply"):
        view = await service.conversation(db, auth, identifier)
        if view is None:
            return None
        state = (
            f"{view.window.state if view.window else None}:{view.window.expires_at if view.window else None}"
        )
        if kind == "window":
            return f"window-{identifier}", state, fragment("_window.html", view=view)
        templates = await service.approved_templates(db, auth, view.channel.id)
        html = fragment("_reply_box.html", view=view, templates=templates, csrf=csrf)
        return f"reply-{identifier}", f"{view.free_form_allowed}:{[t.id for t in templates]}", html
    return None


def _parsed(watch: str) -> tuple[str, str, str]:
    """``kind:id`` or ``kind:id:state``: the state the page rendered (a reply box's), so
    the part is sent only once it differs."""
    kind, _, rest = watch.partition(":")
    identifier, _, rendered = rest.partition(":")
    return kind, identifier, rendered


@stream_router.get("/stream")
async def stream(
    request: Request,
    viewer: ViewerDep,
    watch: Annotated[list[str] | None, Query(max_length=MAX_WATCHED)] = None,
) -> StreamingResponse:
    database = services_of(request).db
    key = viewer.session.key
    csrf = viewer.session.csrf
    assert key is not None

    watched = [_parsed(w) for w in dict.fromkeys(watch or [])]

    async def events() -> AsyncIterator[str]:
        sent: dict[str, str] = {}
        started = time.monotonic()
        yield f"retry: {RETRY_MILLISECONDS}\n\n"
        while time.monotonic() - started < MAX_STREAM_SECONDS:
            with anyio.CancelScope(shield=True):  # a query cut off mid-way would be left to the pool
                async with database.sessionmaker() as db:
                    try:
                        auth = await resolve_key(db, key)
                    except AuthenticationError:
                        return
                    parts = [(w, await _part(db, auth, csrf, *w[:2])) for w in watched]
            for (_, _, rendered), part in parts:
                if part is None:
                    continue
                target, fingerprint, html = part
                if target not in sent and rendered:
                    sent[target] = rendered
                if sent.get(target) != fingerprint:
                    yield sse("swap", json.dumps({"target": target, "html": html}))
                sent[target] = fingerprint
            await asyncio.sleep(POLL_SECONDS)
        yield sse("reconnect", json.dumps({"after_ms": RETRY_MILLISECONDS}))

    return StreamingResponse(events(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"})
