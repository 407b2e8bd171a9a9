"""The FastAPI application and the in-process workers it can run."""

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request, Response, Security
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel
from sqlalchemy import text

import omniroute.tasks  # noqa: F401  (registers job handlers)
from omniroute import __version__
from omniroute.campaigns.endpoints import router as campaigns_router
from omniroute.campaigns.endpoints import usage_router
from omniroute.channels.endpoints import router as channels_router
from omniroute.config import Settings, get_settings
from omniroute.contacts.endpoints import router as contacts_router
from omniroute.conversations.endpoints import router as conversations_router
from omniroute.core import metrics
from omniroute.core.errors import AuthenticationError
from omniroute.core.http import RequestContextMiddleware, api_router, install_error_handlers
from omniroute.core.openapi import API_KEY, install_openapi
from omniroute.core.time import utcnow
from omniroute.dashboard import endpoints as dashboard
from omniroute.dashboard.stream import stream_router as dashboard_stream
from omniroute.hooks.endpoints import router as hooks_router
from omniroute.hooks.service import PROCESS_JOB
from omniroute.hooks.tasks import WEBHOOK_BATCH_SIZE, apply_webhooks
from omniroute.jobs.batch import BatchWorker
from omniroute.jobs.worker import Worker
from omniroute.logs.endpoints import router as logs_router
from omniroute.messages import backlog
from omniroute.messages.dispatch import dispatch_batch
from omniroute.messages.endpoints import router as messages_router
from omniroute.messages.service import DISPATCH_JOB
from omniroute.sandbox.endpoints import router as sandbox_router
from omniroute.services import Services, build_services
from omniroute.templates.endpoints import router as templates_router
from omniroute.verifications.endpoints import router as verifications_router
from omniroute.webchat.endpoints import router as webchat_router
from omniroute.webchat.endpoints import scripts as webchat_scripts
from omniroute.webchat.guard import VisitorApiMiddleware
from omniroute.webhooks.endpoints import router as webhooks_router
from omniroute.workspaces.auth import guard_idempotency
from omniroute.workspaces.endpoints import admin_router
from omniroute.workspaces.endpoints import router as workspace_router

log = logging.getLogger(__name__)

DESCRIPTION = """
One API for WhatsApp, SMS, email and web chat that knows WhatsApp's rules: it tracks
every customer service window, refuses or reroutes a message before Meta would reject
it, and tells you exactly what happened.

Authenticate with `Authorization: Bearer or_test_...` (sandbox) or `or_live_...`.
Errors: `{"error": {"type", "code", "message", "param", "details", "request_id"}}`.
"""


DOCS_ASSETS_URL = "/docs-assets"


class Health(BaseModel):
    status: str
    database: str
    version: str | None = None


def start_workers(services: Services, stop: asyncio.Event) -> asyncio.Task[None]:
    """The background loops of one process: message dispatch and provider webhooks, each
    in batches, and a worker for every other job."""
    settings = services.settings
    batch_workers = [
        BatchWorker(
            services,
            kind=DISPATCH_JOB,
            handler=dispatch_batch,
            batch_size=settings.dispatch_batch_size,
            max_in_flight=settings.dispatch_max_in_flight,
            poll_interval=settings.worker_poll_interval,
            lease=settings.job_lease_seconds,
        ),
        BatchWorker(
            services,
            kind=PROCESS_JOB,
            handler=apply_webhooks,
            batch_size=WEBHOOK_BATCH_SIZE,
            max_in_flight=2 * WEBHOOK_BATCH_SIZE,
            poll_interval=settings.worker_poll_interval,
            lease=settings.job_lease_seconds,
        ),
    ]
    worker = Worker(
        services,
        concurrency=settings.worker_concurrency,
        poll_interval=settings.worker_poll_interval,
        lease=settings.job_lease_seconds,
        excluding=[batch_worker.kind for batch_worker in batch_workers],
    )
    for loop in (*batch_workers, worker):
        services.on_jobs_enqueued(loop.wake)

    async def run() -> None:
        await asyncio.gather(*(loop.run(stop) for loop in (*batch_workers, worker)))

    return asyncio.create_task(run(), name="omniroute-workers")


def create_app(settings: Settings | None = None, *, run_workers: bool = True) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings)
        app.state.services = services
        services.start()
        stop = asyncio.Event()
        worker_task = start_workers(services, stop) if run_workers else None
        try:
            yield
        finally:
            stop.set()
            if worker_task is not None:
                await worker_task
            await services.close()

    app = FastAPIOffline(  # /docs and /redoc with their assets served from the package: no CDN
        title="omniroute",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        static_url=DOCS_ASSETS_URL,
        swagger_ui_parameters={"validatorUrl": None},  # Swagger UI's badge calls an outside validator
    )
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(VisitorApiMiddleware)
    install_error_handlers(app)
    install_openapi(app)

    v1 = api_router(prefix="/v1", dependencies=[Security(API_KEY), Depends(guard_idempotency)])
    for router in (
        channels_router,
        conversations_router,
        templates_router,
        messages_router,
        campaigns_router,
        usage_router,
        verifications_router,
        contacts_router,
        sandbox_router,
        webhooks_router,
        logs_router,
        workspace_router,
        admin_router,
    ):
        v1.include_router(router)
    app.include_router(v1)
    app.include_router(hooks_router)
    app.include_router(webchat_router)
    app.include_router(webchat_scripts)
    app.include_router(dashboard.router)
    app.include_router(dashboard_stream)
    app.mount(
        "/dashboard/static",
        StaticFiles(packages=[("omniroute.dashboard", "static")]),
        name="dashboard-static",
    )

    @app.get(
        "/healthz",
        tags=["health"],
        summary="Liveness and database check",
        response_model=Health,
        responses={503: {"model": Health, "description": "The database is unreachable."}},
    )
    async def healthz() -> JSONResponse:
        try:
            async with app.state.services.db.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:
            log.warning("health check: database unreachable: %s", exc)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok", "version": __version__})

    if settings.metrics_enabled:

        @app.get("/metrics", include_in_schema=False)
        async def prometheus_metrics(request: Request) -> Response:
            """Prometheus text format; see ``core/metrics.py``."""
            require_metrics_token(settings, request.headers.get("authorization"))
            async with app.state.services.db.sessionmaker() as session:
                depths = await backlog.queued_by_lane(session)
            return Response(metrics.exposition(depths, utcnow()), media_type=metrics.CONTENT_TYPE)

    return app


def create_api_app() -> FastAPI:
    """The API without in-process workers (``serve --no-workers`` with several processes)."""
    return create_app(run_workers=False)


def require_metrics_token(settings: Settings, authorization: str | None) -> None:
    """``OMNIROUTE_METRICS_TOKEN``, when set, guards ``/metrics`` as a bearer token."""
    if settings.metrics_token is None:
        return
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), settings.metrics_token.encode()):
        raise AuthenticationError(
            "metrics_token_invalid",
            "GET /metrics needs Authorization: Bearer with OMNIROUTE_METRICS_TOKEN.",
            param="Authorization",
        )
