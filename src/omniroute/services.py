"""The process's long-lived services, built once at start-up and shared by the API
and the workers (one engine, one HTTP session per kind of outbound request, one provider
registry)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from omniroute.config import Settings
from omniroute.core import secrets
from omniroute.core.db import Database
from omniroute.core.outbound import OutboundHttp
from omniroute.core.tenancy import Mode
from omniroute.jobs.signal import JobSignal
from omniroute.providers.registry import ProviderRegistry
from omniroute.requestlog.writer import RequestLogWriter
from omniroute.webhooks import delivery


@dataclass
class Services:
    settings: Settings
    db: Database
    providers: ProviderRegistry
    request_log: RequestLogWriter
    job_signal: JobSignal | None = None
    """Cross-process worker wake-ups (PostgreSQL only)."""
    webhook_http: dict[Mode, OutboundHttp] = field(init=False)
    """Each mode's webhook deliveries' session (``webhooks.delivery.http_session``)."""
    _wake_callbacks: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.webhook_http = {mode: delivery.http_session(self.settings, mode) for mode in Mode}

    def start(self) -> None:
        """Start the background tasks every process has (call inside its event loop)."""
        self.request_log.start()
        if self.job_signal is not None:
            self.job_signal.start()

    def on_jobs_enqueued(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` when this process or (on PostgreSQL) another one commits jobs."""
        self._wake_callbacks.append(callback)
        if self.job_signal is not None:
            self.job_signal.on_notified(callback)

    def jobs_enqueued(self) -> None:
        """Tell workers that committed work is waiting: this process's at once, other
        processes' through the job signal."""
        for callback in self._wake_callbacks:
            callback()
        if self.job_signal is not None:
            self.job_signal.notify()

    def webhook_client(self, mode: Mode) -> OutboundHttp:
        return self.webhook_http[mode]

    async def close(self) -> None:
        if self.job_signal is not None:
            await self.job_signal.stop()
        await self.request_log.stop()
        for http in self.webhook_http.values():
            await http.close()
        await self.providers.close()
        await self.db.dispose()


def build_services(settings: Settings) -> Services:
    secrets.configure(settings)
    db = Database(settings.database_url)
    return Services(
        settings=settings,
        db=db,
        providers=ProviderRegistry(settings, db),
        request_log=RequestLogWriter(db),
        job_signal=None if db.is_sqlite else JobSignal(settings.database_url),
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
