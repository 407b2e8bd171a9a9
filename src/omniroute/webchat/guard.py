"""What keeps the public visitor API public but contained: the page's ``Origin`` checked
against the channel's ``allowed_origins``, exact CORS (the preflight too), per-IP and
per-visitor rate limits, and a cap on request bodies."""

import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from omniroute.channels.models import Channel
from omniroute.core.errors import PermissionDeniedError, RateLimitError
from omniroute.core.tenancy import Mode

PATH_PREFIX = "/widget/v1/"
MAX_BODY_BYTES = 16 * 1024
CORS_STATE = "cors_origin"
ALLOWED_HEADERS = "Authorization, Content-Type, Last-Event-ID"
ALLOWED_METHODS = "GET, POST, DELETE, OPTIONS"
PREFLIGHT_MAX_AGE = 600


def allowed_origin(channel: Channel, origin: str | None) -> str | None:
    """The origin the response may be read from, or a 403 saying why not. A live channel
    answers only its exact ``allowed_origins`` (browsers always send ``Origin`` across
    origins); a test-mode channel without any answers every origin."""
    allowed: list[str] = list((channel.config or {}).get("allowed_origins") or [])
    if origin is None:
        if channel.mode == Mode.LIVE:
            raise PermissionDeniedError(
                "origin_required",
                "The visitor API answers browsers on the channel's allowed_origins: no Origin header was sent.",
            )
        return None
    if origin in allowed or (not allowed and channel.mode == Mode.TEST):
        return origin
    raise PermissionDeniedError(
        "origin_forbidden",
        f"{origin} is not one of this web channel's allowed_origins; add it with PATCH /v1/channels/{{id}}.",
        details={"origin": origin},
    )


def cors_headers(origin: str) -> dict[str, str]:
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def preflight_headers(origin: str) -> dict[str, str]:
    return {
        **cors_headers(origin),
        "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE),
    }


class VisitorApiMiddleware:
    """For ``/widget/v1/``: a body over ``MAX_BODY_BYTES`` is refused with 413 before it is
    read to the end, and a response, errors included, carries the CORS headers of the
    origin its endpoint accepted (``request.state.cors_origin``), and only then."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PATH_PREFIX):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        declared = dict(scope.get("headers", [])).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            await _too_large(send)
            return
        received = 0

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:
                    return {"type": "http.disconnect"}
            return message

        async def send_with_cors(message: Message) -> None:
            origin = state.get(CORS_STATE)
            if message["type"] == "http.response.start" and origin:
                headers = list(message.get("headers", []))
                headers.extend((k.lower().encode(), v.encode()) for k, v in cors_headers(origin).items())
                message["headers"] = headers
            await send(message)

        await self.app(scope, capped_receive, send_with_cors)


async def _too_large(send: Send) -> None:
    body = (
        b'{"error":{"type":"invalid_request_error","code":"request_too_large","message":'
        b'"Visitor API requests are at most 16 KB.","param":null,"details":{},"request_id":null}}'
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


@dataclass(frozen=True)
class Limit:
    requests: int
    per_seconds: float


IP_LIMIT = Limit(600, 60)
"""Every visitor API request from one address to one chat (a whole office behind one NAT
included)."""
SESSION_LIMIT = Limit(20, 60)
"""New visitors from one address on one chat."""
MESSAGE_LIMIT = Limit(30, 60)
MARKER_LIMIT = Limit(120, 60)
SUBSCRIPTION_LIMIT = Limit(10, 60)


class RateLimiter:
    """Sliding one-window limits in this process's memory: a request is refused when the
    key already had ``limit.requests`` within the last ``limit.per_seconds`` (a fixed window
    would let twice the limit through across its boundary). Each API process counts its own
    share; a load balancer spreading visitors evenly multiplies a limit by the number of
    processes at most."""

    SWEEP_SECONDS = 60.0

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._swept_at = 0.0

    def hit(self, key: str, limit: Limit) -> None:
        now = time.monotonic()
        if now - self._swept_at > self.SWEEP_SECONDS:  # forget keys that have gone quiet
            self._swept_at = now
            self._hits = {k: v for k, v in self._hits.items() if v and now - v[-1] < self.SWEEP_SECONDS * 2}
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] >= limit.per_seconds:
            hits.popleft()
        if len(hits) >= limit.requests:
            retry_after = max(1, int(hits[0] + limit.per_seconds - now) + 1)
            raise RateLimitError(
                "rate_limited",
                f"Too many requests ({limit.requests} per {limit.per_seconds:g} s); retry in {retry_after} s.",
                details={"retry_after": retry_after},
            )
        hits.append(now)

    def hit_all(self, hits: Iterable[tuple[str, Limit]]) -> None:
        for key, limit in hits:
            self.hit(key, limit)
