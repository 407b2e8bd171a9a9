"""Where the server may connect on a user's behalf (webhook URLs, a channel's API base
URL): the outbound-target policy that keeps a live key from using omniroute to reach
private, loopback, link-local or otherwise internal addresses (SSRF).

It is applied twice: when the URL is saved (``require_allowed``: a 422 naming the field,
a host that does not resolve yet is accepted) and when a connection is made
(``check`` before a webhook delivery; ``GuardedConnector`` under every connection of
the Graph API session and of live webhook deliveries, which connects to the very
addresses it checked, so DNS changed afterwards cannot point a saved URL inward). A
refusal happens before any packet is sent, so it says nothing about what listens at the
address. Test mode may target anything; ``OMNIROUTE_ALLOW_PRIVATE_TARGETS`` lets a self-hosted or test set-up allow
internal addresses in live mode too."""

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import ResolveResult
from aiohttp.tracing import Trace

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


class GuardedConnector(aiohttp.TCPConnector):
    """aiohttp's connector (``options`` as for ``aiohttp.TCPConnector``) whose every new
    connection passes the policy: the addresses a host resolves to (or the address a
    URL names) are refused if any is internal, unless the settings allow internal
    targets at the time of connecting, and the connection is made to those very
    addresses, never to a second lookup's answer. A refusal raises ``TargetRefused``
    out of the request, before anything was sent."""

    def __init__(self, settings: Settings, **options: Any) -> None:
        super().__init__(**options)
        self.settings = settings

    async def _resolve_host(  # aiohttp has no public hook that also sees literal addresses
        self, host: str, port: int, traces: Sequence[Trace] | None = None
    ) -> list[ResolveResult]:
        resolved = await super()._resolve_host(host, port, traces=traces)
        if not self.settings.allow_private_targets:
            refuse_internal(host, [address["host"] for address in resolved])
        return resolved
