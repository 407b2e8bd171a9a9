"""What every outbound HTTP client shares (the Graph API client, webhook deliveries, the
emulator's webhooks)."""

import httpx

KEEPALIVE_EXPIRY = 2.0
"""An idle pooled connection is not reused after this. Servers close idle connections
too (uvicorn and Node after 5 s, nginx after 75 s); a request sent on a connection the
server is closing at that moment is lost after it was written, so whether it was acted
on is unknown. Expiring first means our side never races the server's close."""


def pool_limits(max_connections: int, max_keepalive: int | None = None) -> httpx.Limits:
    return httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_keepalive,
        keepalive_expiry=KEEPALIVE_EXPIRY,
    )
