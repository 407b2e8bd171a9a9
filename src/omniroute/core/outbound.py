"""What every outbound HTTP client shares (the Graph API session, webhook deliveries, the
emulator's webhooks: the keep-alive expiry), and the one construction of omniroute's own
outbound sessions.

The gateway's outbound requests go through aiohttp, not httpx: on this 2-core machine
httpx's pool tops out at about 150 requests/s at concurrency 64 (encode/httpx#3215)
while aiohttp sends over 10,000 (``benchmarks/http_clients.py``, docs/performance.md)."""

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Self

import aiohttp
import certifi

from omniroute.config import Settings
from omniroute.core.targets import GuardedConnector

KEEPALIVE_EXPIRY = 2.0
"""An idle pooled connection is not reused after this. Servers close idle connections
too (uvicorn and Node after 5 s, nginx after 75 s); a request sent on a connection the
server is closing at that moment is lost after it was written, so whether it was acted
on is unknown. Expiring first means our side never races the server's close."""


class OutboundHttp:
    """One keep-alive ``aiohttp.ClientSession``, shared by every request of one kind in a
    process: at most ``max_connections`` connections open at once, idle ones dropped
    after ``KEEPALIVE_EXPIRY``, TLS verified against certifi's CA bundle (as httpx did),
    redirects never followed, no proxy taken from the environment, ``timeout`` unless a
    request gives its own. ``guarded_by``: every new connection passes the
    outbound-target policy under these settings (``targets.GuardedConnector``).

    The session is made on first use, inside the running event loop, so this object
    can be built before there is one; ``close`` (or leaving ``async with``) ends it."""

    def __init__(
        self,
        *,
        max_connections: int,
        timeout: aiohttp.ClientTimeout,
        guarded_by: Settings | None = None,
    ) -> None:
        self.max_connections = max_connections
        self.timeout = timeout
        self.guarded_by = guarded_by
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            options: dict[str, Any] = {
                "limit": self.max_connections,
                "keepalive_timeout": KEEPALIVE_EXPIRY,
                "ssl": ssl.create_default_context(cafile=certifi.where()),
            }
            connector = (
                aiohttp.TCPConnector(**options)
                if self.guarded_by is None
                else GuardedConnector(self.guarded_by, **options)
            )
            self._session = aiohttp.ClientSession(connector=connector, timeout=self.timeout)
        return self._session

    @asynccontextmanager
    async def request(self, method: str, url: str, **options: Any) -> AsyncIterator[aiohttp.ClientResponse]:
        """``aiohttp.ClientSession.request`` (same keywords) without redirects; the
        connection goes back to the pool when the block ends, if the answer was read."""
        async with self._open().request(method, url, allow_redirects=False, **options) as response:
            yield response

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()
