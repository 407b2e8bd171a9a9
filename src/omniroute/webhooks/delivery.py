"""One delivery attempt over HTTP: SSRF check on the resolved addresses, Standard
Webhooks headers, a bounded wait and a short excerpt of the answer."""

import time
from dataclasses import dataclass

import aiohttp

from omniroute.config import Settings
from omniroute.core import targets
from omniroute.core.outbound import OutboundHttp
from omniroute.core.tenancy import Mode
from omniroute.webhooks import signing

EXCERPT_BYTES = 1024
EXCERPT_CHARS = 500
MAX_CONNECTIONS = 100
"""Per process and mode, to all endpoints together."""


def http_session(settings: Settings, mode: Mode) -> OutboundHttp:
    """The keep-alive session of one mode's deliveries. Live mode has its own, every
    connection checked against the outbound-target policy on the address it connects
    to; never shared with test mode, whose connections to internal addresses must not
    be reused."""
    return OutboundHttp(
        max_connections=MAX_CONNECTIONS,
        timeout=aiohttp.ClientTimeout(total=settings.webhook_timeout_seconds),
        guarded_by=settings if mode is Mode.LIVE else None,
    )


@dataclass(frozen=True)
class Request:
    url: str
    mode: Mode
    webhook_id: str
    body: str
    secrets: list[str]


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    duration_ms: float
    response_excerpt: str | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def attempt(http: OutboundHttp, settings: Settings, request: Request) -> Outcome:
    started = time.perf_counter()

    def outcome(status: int | None, excerpt: str | None, error: str | None) -> Outcome:
        return Outcome(status, round((time.perf_counter() - started) * 1000, 3), excerpt, error)

    try:  # the address is checked again where the live client connects (no DNS rebinding)
        await targets.check(
            request.url,
            request.mode,
            settings,
            unresolvable_ok=False,
            https_only=not settings.webhook_allow_http,
        )
    except targets.TargetRefused as refused:
        return outcome(None, None, f"refused: {refused}")
    # Real time, never the test clock: receivers reject a webhook-timestamp far from their
    # own clock (replay protection). The body's "timestamp" is the event's, on the mode's clock.
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": "omniroute-webhooks",
        "webhook-id": request.webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signing.signature_header(
            request.secrets, request.webhook_id, timestamp, request.body
        ),
    }
    try:
        async with http.request("POST", request.url, data=request.body.encode(), headers=headers) as response:
            excerpt = b""
            async for chunk in response.content.iter_any():
                excerpt += chunk
                if len(excerpt) >= EXCERPT_BYTES:
                    break
    except targets.TargetRefused as refused:
        return outcome(None, None, f"refused: {refused}")
    except TimeoutError:
        return outcome(None, None, f"timed out after {settings.webhook_timeout_seconds:g}s")
    except aiohttp.ClientError as exc:
        return outcome(None, None, f"{type(exc).__name__}: {exc}"[:500])
    text = excerpt.decode("utf-8", errors="replace")[:EXCERPT_CHARS]
    error = None if 200 <= response.status < 300 else f"HTTP {response.status}"
    return outcome(response.status, text or None, error)
