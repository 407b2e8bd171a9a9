"""Where the server may connect on a user's behalf (webhook URLs, a channel's API base
URL): the outbound-target policy that keeps a live key from using omniroute to reach
private, loopback, link-local or otherwise internal addresses (SSRF).

It is applied twice: when the URL is saved (``require_allowed``: a 422 naming the field,
a host that does not resolve yet is accepted) and when a connection is made
(``check`` before a webhook delivery; ``GuardedBackend`` under every connection of the
Graph API client, which connects to the very address it checked, so DNS changed
afterwards cannot point a saved URL inward). A refusal happens before any packet is
sent, so it says nothing about what listens at the address. Test mode may target
anything; ``OMNIROUTE_ALLOW_PRIVATE_TARGETS`` lets a self-hosted or test set-up allow
internal addresses in live mode too."""

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from omniroute.config import Settings
from omniroute.core.errors import InvalidRequestError
from omniroute.core.tenancy import Mode

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
"""RFC 6052's well-known prefix: the last 32 bits are the IPv4 address reached."""
LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")
"""RFC 8215's local-use NAT64 prefix: only ever translates inside a network."""
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
"""Deprecated IPv4-compatible addresses (``::7f00:1`` is 127.0.0.1)."""


class TargetRefused(Exception):
    """The URL may not be called in this mode; the message says why."""


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries and is routed to: IPv4-mapped,
    IPv4-compatible, NAT64, 6to4 or Teredo (the de-obfuscated client address)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64 or ip in IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return None


def is_internal(address: str | IPAddress) -> bool:
    """Whether connecting to ``address`` could reach something that is not the public
    internet. IPv6 forms that embed an IPv4 address are judged by that address too:
    Python calls ``64:ff9b::a9fe:a9fe`` global although it reaches 169.254.169.254."""
    ip = ipaddress.ip_address(address.split("%", 1)[0]) if isinstance(address, str) else address
    if not ip.is_global or ip.is_multicast:
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in LOCAL_NAT64:
            return True
        embedded = embedded_ipv4(ip)
        return embedded is not None and is_internal(embedded)
    return False


async def resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def refuse_internal(host: str, addresses: Iterable[str]) -> None:
    internal = [a for a in addresses if is_internal(a)]
    if internal:
        raise TargetRefused(
            f"{host} resolves to a private, loopback or link-local address ({', '.join(internal)})"
        )


async def check(
    url: str, mode: Mode, settings: Settings, *, unresolvable_ok: bool, https_only: bool = False
) -> None:
    """Raise ``TargetRefused`` if ``url`` may not be called in ``mode``."""
    if mode is Mode.TEST:
        return
    parts = urlsplit(url)
    if https_only and parts.scheme != "https":
        raise TargetRefused("live-mode URLs must use https")
    if settings.allow_private_targets:
        return
    host = parts.hostname or ""
    try:
        addresses = await resolve(host, parts.port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError) as exc:
        if unresolvable_ok:
            return
        raise TargetRefused(f"{host} does not resolve ({exc})") from exc
    refuse_internal(host, addresses)


async def require_allowed(
    url: str, mode: Mode, settings: Settings, *, param: str, code: str, https_only: bool = False
) -> None:
    """``check`` for a URL being saved: a refusal is a 422 ``code`` naming ``param``. A
    host that does not resolve yet is accepted (connections check it again)."""
    try:
        await check(url, mode, settings, unresolvable_ok=True, https_only=https_only)
    except TargetRefused as refused:
        raise InvalidRequestError(
            code,
            f"{param}: {refused}. Use a public URL, or a test key to reach local addresses.",
            param=param,
        ) from refused


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """A network backend that resolves each host itself, refuses internal addresses
    (unless the settings allow them at the time of connecting) and connects to the
    address it checked, never to a second lookup's answer."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend, settings: Settings) -> None:
        self.inner = inner
        self.settings = settings

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if self.settings.allow_private_targets:
            return await self.inner.connect_tcp(host, port, timeout, local_address, socket_options)
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolve(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"{host} does not resolve ({exc})") from exc
        refuse_internal(host, addresses)
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"{host} has no address")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise TargetRefused("unix sockets are not outbound targets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def guarded_transport(settings: Settings, **options: Any) -> httpx.AsyncHTTPTransport:
    """httpx's own transport (``options`` as for ``httpx.AsyncHTTPTransport``) whose
    every new connection passes ``GuardedBackend``. A refused target raises
    ``TargetRefused`` out of the request, before anything was sent."""
    transport = httpx.AsyncHTTPTransport(**options)
    pool = transport._pool  # httpx exposes no hook for httpcore's network backend
    assert isinstance(pool, httpcore.AsyncConnectionPool)
    pool._network_backend = GuardedBackend(pool._network_backend, settings)
    return transport
