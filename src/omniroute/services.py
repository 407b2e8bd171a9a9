"""The process's long-lived services, built once at start-up and shared by the API
and the workers (one engine, one HTTP client pool, one provider registry)."""

from dataclasses import dataclass, field
from typing import Annotated

import httpx
from fastapi import Depends, Request

from omniroute.config import Settings
from omniroute.core import secrets, targets
from omniroute.core.db import Database
from omniroute.core.outbound import pool_limits
from omniroute.core.tenancy import Mode
from omniroute.providers.registry import ProviderRegistry
from omniroute.requestlog.writer import RequestLogWriter

WEBHOOK_LIMITS = pool_limits(100)


@dataclass
class Services:
    settings: Settings
    db: Database
    providers: ProviderRegistry
    request_log: RequestLogWriter
    webhook_http: httpx.AsyncClient = field(
        default_factory=lambda: httpx.AsyncClient(follow_redirects=False, limits=WEBHOOK_LIMITS)
    )
    """The connection pool of test-mode webhook deliveries, which may go anywhere
    (timeouts are set per request)."""
    live_webhook_http: httpx.AsyncClient | None = None
    """Live-mode deliveries' own pool, every connection checked against the
    outbound-target policy; never shared with test mode, whose connections to internal
    addresses must not be reused."""
    _wake_callbacks: list[object] = field(default_factory=list)

    def on_jobs_enqueued(self, callback: object) -> None:
        self._wake_callbacks.append(callback)

    def jobs_enqueued(self) -> None:
        """Tell in-process workers that committed work is waiting (other processes poll)."""
        for callback in self._wake_callbacks:
            assert callable(callback)
            callback()

    def webhook_client(self, mode: Mode) -> httpx.AsyncClient:
        if mode is Mode.LIVE:
            if self.live_webhook_http is None:
                self.live_webhook_http = httpx.AsyncClient(
                    transport=targets.guarded_transport(self.settings, limits=WEBHOOK_LIMITS),
                    follow_redirects=False,
                )
            return self.live_webhook_http
        return self.webhook_http

    async def close(self) -> None:
        await self.request_log.stop()
        await self.webhook_http.aclose()
        if self.live_webhook_http is not None:
            await self.live_webhook_http.aclose()
        await self.providers.close()
        await self.db.dispose()


def build_services(settings: Settings) -> Services:
    secrets.configure(settings)
    db = Database(settings.database_url)
    return Services(
        settings=settings, db=db, providers=ProviderRegistry(settings, db), request_log=RequestLogWriter(db)
    )


def services_of(request: Request) -> Services:
    services = request.app.state.services
    assert isinstance(services, Services)
    return services


async def get_services(request: Request) -> Services:
    """The process's services, as a dependency (async: no thread hop per request)."""
    return services_of(request)


def wake_workers_after_commit(request: Request) -> None:
    """Wake in-process workers once the request's transaction (with its jobs) commits."""
    request.state.after_commit.append(services_of(request).jobs_enqueued)


ServicesDep = Annotated[Services, Depends(get_services)]
