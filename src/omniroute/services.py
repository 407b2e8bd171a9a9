"""The process's long-lived services, built once at start-up and shared by the API
and the workers (one engine, one HTTP client pool, one provider registry)."""

from dataclasses import dataclass, field
from typing import Annotated

import httpx
from fastapi import Depends, Request

from omniroute.config import Settings
from omniroute.core.db import Database
from omniroute.core.outbound import pool_limits
from omniroute.providers.registry import ProviderRegistry
from omniroute.requestlog.writer import RequestLogWriter


@dataclass
class Services:
    settings: Settings
    db: Database
    providers: ProviderRegistry
    request_log: RequestLogWriter
    webhook_http: httpx.AsyncClient = field(
        default_factory=lambda: httpx.AsyncClient(follow_redirects=False, limits=pool_limits(100))
    )
    """One connection pool for every webhook delivery (timeouts are set per request)."""
    _wake_callbacks: list[object] = field(default_factory=list)

    def on_jobs_enqueued(self, callback: object) -> None:
        self._wake_callbacks.append(callback)

    def jobs_enqueued(self) -> None:
        """Tell in-process workers that committed work is waiting (other processes poll)."""
        for callback in self._wake_callbacks:
            assert callable(callback)
            callback()

    async def close(self) -> None:
        await self.request_log.stop()
        await self.webhook_http.aclose()
        await self.providers.close()
        await self.db.dispose()


def build_services(settings: Settings) -> Services:
    db = Database(settings.database_url)
    return Services(
        settings=settings, db=db, providers=ProviderRegistry(settings, db), request_log=RequestLogWriter(db)
    )


def get_services(request: Request) -> Services:
    services = request.app.state.services
    assert isinstance(services, Services)
    return services


def wake_workers_after_commit(request: Request) -> None:
    """Wake in-process workers once the request's transaction (with its jobs) commits."""
    request.state.after_commit.append(get_services(request).jobs_enqueued)


ServicesDep = Annotated[Services, Depends(get_services)]
