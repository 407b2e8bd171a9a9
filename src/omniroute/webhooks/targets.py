"""Where webhooks may go. In live mode a URL must be https (unless the operator allows
http) and must not reach private, loopback, link-local or otherwise internal addresses
(unless the operator allows them): checked when the endpoint is saved and again on the
addresses the host resolves to at every delivery, so DNS cannot be changed afterwards to
point a saved endpoint inward. Test mode may target anything, localhost included."""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from omniroute.config import Settings
from omniroute.core.errors import InvalidRequestError
from omniroute.core.tenancy import Mode


class TargetRefused(Exception):
    """The URL may not be called in this mode; the message says why."""


def _internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


async def resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


async def check(url: str, mode: Mode, settings: Settings, *, unresolvable_ok: bool) -> None:
    """Raise ``TargetRefused`` if ``url`` may not be called in ``mode``."""
    if mode is Mode.TEST:
        return
    parts = urlsplit(url)
    if parts.scheme != "https" and not settings.webhook_allow_http:
        raise TargetRefused("live-mode webhook URLs must use https")
    if settings.webhook_allow_private_targets:
        return
    host = parts.hostname or ""
    try:
        addresses = await resolve(host, parts.port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError) as exc:
        if unresolvable_ok:
            return
        raise TargetRefused(f"{host} does not resolve ({exc})") from exc
    internal = [a for a in addresses if _internal(a)]
    if internal:
        raise TargetRefused(
            f"{host} resolves to a private, loopback or link-local address ({', '.join(internal)})"
        )


async def require_allowed(url: str, mode: Mode, settings: Settings) -> None:
    """``check`` for an endpoint being saved: a refusal is a 422 naming ``url``. A host
    that does not resolve yet is accepted (deliveries check it again)."""
    try:
        await check(url, mode, settings, unresolvable_ok=True)
    except TargetRefused as refused:
        raise InvalidRequestError(
            "webhook_url_forbidden",
            f"url: {refused}. Use a public https URL, or a test key to reach local addresses.",
            param="url",
        ) from refused
