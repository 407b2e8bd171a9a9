"""A small pool of SMTP connections per channel: connected, TLS set up and
authenticated once, then reused for sends one at a time each (SMTP has no
pipelining of whole messages). At most ``smtp_pool_size`` connections per channel and
process; one idle longer than ``smtp_idle_seconds`` is closed instead of reused, and a
reused one must answer NOOP first (the relay may have dropped it)."""

import asyncio
import contextlib
import socket
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiosmtplib
import certifi

from omniroute.config import Settings
from omniroute.core import targets
from omniroute.providers.smtp.config import SmtpConfig


@dataclass
class _Idle:
    client: aiosmtplib.SMTP
    since: float


def tls_context(settings: Settings) -> ssl.SSLContext:
    """Certificates are verified against certifi's authorities, plus ``smtp_ca_file``'s."""
    context = ssl.create_default_context(cafile=certifi.where())
    if settings.smtp_ca_file:
        context.load_verify_locations(cafile=settings.smtp_ca_file)
    return context


class SmtpPool:
    """The connections of one channel (for one version of its config)."""

    def __init__(self, config: SmtpConfig, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self._slots = asyncio.Semaphore(settings.smtp_pool_size)
        self._idle: list[_Idle] = []

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[aiosmtplib.SMTP]:
        """A ready connection for one send. It goes back to the pool if the block ends
        normally, and is closed if it raises (its state is unknown)."""
        async with self._slots:
            client = await self._reuse() or await self._connect()
            try:
                yield client
            except BaseException:
                await _close(client)
                raise
            self._idle.append(_Idle(client, time.monotonic()))

    async def _reuse(self) -> aiosmtplib.SMTP | None:
        while self._idle:
            idle = self._idle.pop()
            if time.monotonic() - idle.since < self.settings.smtp_idle_seconds and idle.client.is_connected:
                try:
                    await idle.client.noop()
                except (aiosmtplib.SMTPException, OSError):
                    pass
                else:
                    return idle.client
            await _close(idle.client)
        return None

    async def _connect(self) -> aiosmtplib.SMTP:
        """Connect to an address the outbound-target policy allows (the very address that
        was checked, never a second lookup's answer), then STARTTLS and AUTH as configured."""
        config = self.config
        sock = await self._socket(config.host.strip("[]"), config.effective_port)
        client = aiosmtplib.SMTP(
            hostname=config.host.strip("[]"),
            sock=sock,
            timeout=self.settings.provider_timeout_seconds,
            use_tls=config.security == "tls",
            start_tls=config.security == "starttls",
            tls_context=tls_context(self.settings) if config.security != "none" else None,
            username=config.username,
            password=config.password,
        )
        try:
            await client.connect()
        except BaseException:
            # The socket belongs to the connection's transport from here on, which closes
            # it (after a TLS shutdown, later): closing it under the transport would free
            # its descriptor for reuse while the event loop still watches it.
            client.close()
            raise
        return client

    async def _socket(self, host: str, port: int) -> socket.socket:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        if not self.settings.allow_private_targets:
            targets.refuse_internal(host, [str(info[4][0]) for info in infos])
        error: OSError | None = None
        for family, kind, proto, _, address in infos:
            sock = socket.socket(family, kind, proto)
            sock.setblocking(False)
            try:
                await asyncio.wait_for(
                    loop.sock_connect(sock, address), self.settings.provider_timeout_seconds
                )
            except (OSError, TimeoutError) as exc:
                sock.close()
                error = exc if isinstance(exc, OSError) else OSError(f"connecting to {address} timed out")
                continue
            return sock
        raise error or OSError(f"{host} resolves to no address")

    async def close(self) -> None:
        while self._idle:
            await _close(self._idle.pop().client)


async def _close(client: aiosmtplib.SMTP) -> None:
    """QUIT politely if the connection is up; drop it regardless."""
    with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
        if client.is_connected:
            await client.quit()
    client.close()
