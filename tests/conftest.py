"""Test harness: a real omniroute server (uvicorn, real HTTP on loopback) with its
in-process workers, on SQLite by default or on PostgreSQL when
``OMNIROUTE_TEST_DATABASE_URL`` is set. Each test gets a fresh workspace, so tests are
isolated by the same tenancy rules that isolate customers."""

import asyncio
import logging
import os
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.fernet import Fernet
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.app import create_app
from omniroute.config import Settings
from omniroute.core.db import Database, run_on_postgres
from omniroute.core.tenancy import Mode, TenantRef
from omniroute.jobs.models import Job
from omniroute.messages import service as messages
from omniroute.messages.models import Message
from omniroute.messages.schemas import CONTENT_KINDS, SendMessage
from omniroute.migrations.runner import upgrade
from omniroute.workspaces import service as workspaces
from omniroute.workspaces.models import Workspace

pytest_plugins = ["tests.browser"]  # the ``browser`` fixture (headless chromium)

FAST_SANDBOX = {
    "sandbox_status_interval": 0.05,
    "sandbox_template_review_seconds": 0.1,
    "worker_poll_interval": 0.05,
}

CUSTOMER = "+2348012345678"
"""An ordinary sandbox recipient (Nigeria): sent, delivered and read."""

ERROR_TYPES = frozenset(
    {
        "authentication_error",
        "invalid_request_error",
        "policy_error",
        "not_found_error",
        "conflict_error",
        "rate_limit_error",
        "provider_error",
        "api_error",
    }
)

POSITIONAL_BODY = {
    "type": "BODY",
    "text": "Hi {{1}}, your order {{2}} has shipped and will arrive soon.",
    "example": {"body_text": [["Ada", "#4582"]]},
}

NAMED_BODY = {
    "type": "BODY",
    "text": "Hello {{first_name}}, your appointment on {{day}} is confirmed. Reply to change it.",
    "example": {
        "body_text_named_params": [
            {"param_name": "first_name", "example": "Ada"},
            {"param_name": "day", "example": "Monday"},
        ]
    },
}


def _database_url(tmp: Path) -> str:
    """SQLite in a temporary directory, or ``OMNIROUTE_TEST_DATABASE_URL``; under pytest-xdist
    each worker process gets a database of its own beside that one (``test_gw0``, ...)."""
    given = os.environ.get("OMNIROUTE_TEST_DATABASE_URL")
    if not given:
        return f"sqlite+aiosqlite:///{tmp / 'omniroute-test.db'}"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return given if worker is None else asyncio.run(_new_postgres_database(given, worker))


async def _new_postgres_database(url: str, name: str) -> str:
    """The URL of a new, empty database named after ``url``'s plus ``_name``, on its server."""
    parsed = make_url(url)
    database = f"{parsed.database}_{name}"
    await run_on_postgres(url, f"DROP DATABASE IF EXISTS {database}", f"CREATE DATABASE {database}")
    return parsed.set(database=database).render_as_string(hide_password=False)


async def scratch_database(settings: Settings, name: str) -> str:
    """The URL of a new, empty database of the suite's kind (``name`` beside the suite's own
    on PostgreSQL, a new file on SQLite), so a test can migrate or serve it without touching
    the suite's tables or waiting on the suite's server."""
    if make_url(settings.database_url).get_backend_name() != "postgresql":
        return f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / f'{name}.db'}"
    return await _new_postgres_database(settings.database_url, name)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def no_server_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The server runs in this process: an error it logs while a test runs (an unhandled
    exception behind a 500, a failed job, a lost request log entry) fails that test."""
    yield
    errors = [
        record
        for record in caplog.get_records("call")
        if record.levelno >= logging.ERROR and record.name.startswith("omniroute")
    ]
    assert not errors, "the server logged errors:\n" + "\n".join(caplog.text.splitlines()[-40:])


@pytest.fixture(scope="session")
def settings() -> Settings:
    tmp = Path(tempfile.mkdtemp(prefix="omniroute-test-"))
    url = _database_url(tmp)
    if make_url(url).get_backend_name() == "postgresql":
        asyncio.run(run_on_postgres(url, "DROP SCHEMA public CASCADE", "CREATE SCHEMA public"))
    upgrade(url)
    return Settings(
        database_url=url,
        allow_private_targets=True,  # live meta channels reach emulators on loopback
        secret_key=Fernet.generate_key().decode(),
        **FAST_SANDBOX,  # type: ignore[arg-type]
    )


@pytest.fixture
def private_targets_refused(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The outbound-target policy as in production, for this test: the harness's server
    otherwise allows private targets so live channels can reach loopback emulators."""
    monkeypatch.setattr(settings, "allow_private_targets", False)


async def serve(app: FastAPI, port: int | None = None) -> tuple[str, Callable[[], Awaitable[None]]]:
    """Run an ASGI app under uvicorn on a loopback port (a free one unless given), in this
    event loop; returns its URL and a stopper."""
    port = port or _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    uvicorn_server = uvicorn.Server(config)
    task = asyncio.create_task(uvicorn_server.serve())
    while not uvicorn_server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)

    async def stop() -> None:
        uvicorn_server.should_exit = True
        await task

    return f"http://127.0.0.1:{port}", stop


@pytest.fixture
def concurrent_writers(settings: Settings) -> None:
    """Skips a test of races between concurrent writers unless on PostgreSQL (SQLite
    serialises writers, so the race cannot happen there)."""
    if make_url(settings.database_url).get_backend_name() != "postgresql":
        pytest.skip("concurrent writers race only on PostgreSQL; SQLite serialises them")


@pytest.fixture(scope="session")
async def server(settings: Settings) -> AsyncIterator[str]:
    url, stop = await serve(create_app(settings))
    yield url
    await stop()


@pytest.fixture(scope="session")
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database_url)
    yield database
    await database.dispose()


async def eventually(
    probe: Callable[[], Awaitable[Any]],
    until: Callable[[Any], bool],
    timeout: float = 10.0,  # noqa: ASYNC109 - a polling deadline, not a cancellation scope
) -> Any:
    """Poll ``probe`` until ``until(result)`` holds; fail with the last result otherwise."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await probe()
        if until(result):
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last result: {result!r}")
        await asyncio.sleep(0.05)


def ts(value: str) -> datetime:
    """Parse an RFC 3339 timestamp from a response."""
    return datetime.fromisoformat(value)


def assert_error(
    response: httpx.Response, status: int, code: str, *, param: Any = ..., error_type: str | None = None
) -> dict[str, Any]:
    """The response is the contract's error shape with this status and code; returns the error."""
    assert response.status_code == status, response.text
    assert response.headers["x-request-id"].startswith("req_")
    body = response.json()
    assert list(body) == ["error"], body
    error = body["error"]
    assert {"type", "code", "message", "param", "details", "request_id"} <= set(error), error
    assert error["code"] == code, error
    assert error["type"] in ERROR_TYPES, error
    if error_type is not None:
        assert error["type"] == error_type, error
    assert isinstance(error["message"], str) and len(error["message"]) > 10, error
    assert isinstance(error["details"], dict), error
    assert str(error["request_id"]).startswith("req_"), error
    if param is not ...:
        assert error["param"] == param, error
    return dict(error)


@dataclass
class Tenant:
    workspace_id: str
    test: httpx.AsyncClient
    live: httpx.AsyncClient
    whatsapp: str
    sms: str
    email: str

    async def send(self, to: str = CUSTOMER, *, channel_id: str | None = None, **body: Any) -> httpx.Response:
        """POST /v1/messages with a test key (WhatsApp sandbox channel unless told otherwise;
        a text, or on the email channel an email, unless the content is given)."""
        payload = {"channel_id": channel_id or self.whatsapp, "to": to, **body}
        if not any(kind in body for kind in CONTENT_KINDS) and payload["channel_id"] == self.email:
            payload["email"] = {"subject": "Your order", "text": "Hi there, your order has shipped."}
        elif not any(kind in body for kind in CONTENT_KINDS):
            payload["text"] = {"body": "Hi there, your order has shipped."}
        return await self.test.post("/v1/messages", json=payload)

    async def inbound(
        self,
        sender: str = CUSTOMER,
        body: str = "Hello",
        *,
        channel_id: str | None = None,
        timestamp: str | None = None,
        **extra: Any,
    ) -> httpx.Response:
        """A customer writes to the business (POST /v1/sandbox/inbound)."""
        payload: dict[str, Any] = {
            "channel_id": channel_id or self.whatsapp,
            "from": sender,
            "text": {"body": body},
        }
        if timestamp is not None:
            payload["timestamp"] = timestamp
        payload.update(extra)
        return await self.test.post("/v1/sandbox/inbound", json=payload)

    async def window(self, to: str = CUSTOMER, channel_id: str | None = None) -> dict[str, Any]:
        response = await self.test.get(
            f"/v1/channels/{channel_id or self.whatsapp}/window", params={"to": to}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def message(self, message_id: str) -> dict[str, Any]:
        response = await self.test.get(f"/v1/messages/{message_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def wait_for(self, message_id: str, status: str, within: float = 30.0) -> dict[str, Any]:
        """Wait until the message reaches ``status`` (fails fast if it ends in another final state).
        Statuses come from the sandbox's jobs, which queue behind other tests' on a loaded machine."""

        def reached(message: dict[str, Any]) -> bool:
            if message["status"] != status and message["status"] in ("failed", "read"):
                raise AssertionError(f"message ended {message['status']}, expected {status}: {message}")
            return message["status"] == status

        return dict(await eventually(lambda: self.message(message_id), reached, within))

    async def advance_clock(self, seconds: float) -> dict[str, Any]:
        response = await self.test.post("/v1/sandbox/clock/advance", json={"seconds": seconds})
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def create_template(
        self,
        name: str = "order_update",
        *,
        components: list[dict[str, Any]] | None = None,
        category: str = "UTILITY",
        language: str = "en",
        client: httpx.AsyncClient | None = None,
        channel_id: str | None = None,
    ) -> httpx.Response:
        return await (client or self.test).post(
            f"/v1/channels/{channel_id or self.whatsapp}/templates",
            json={
                "name": name,
                "language": language,
                "category": category,
                "components": components or [POSITIONAL_BODY],
            },
        )

    async def approved_template(self, name: str = "order_update", **kwargs: Any) -> dict[str, Any]:
        """Submit a template and wait for the sandbox to approve it."""
        created = await self.create_template(name, **kwargs)
        assert created.status_code == 201, created.text
        template_id = created.json()["id"]

        async def fetch() -> dict[str, Any]:
            return dict((await self.test.get(f"/v1/templates/{template_id}")).json())

        return dict(await eventually(fetch, lambda t: t["status"] == "APPROVED", timeout=30))

    async def contact_id(self, address: str = CUSTOMER) -> str:
        response = await self.test.get("/v1/contacts", params={"address": address})
        assert response.status_code == 200, response.text
        [contact] = response.json()["data"]
        return str(contact["id"])


TenantFactory = Callable[[], Awaitable[Tenant]]


@pytest.fixture
async def make_tenant(server: str, db: Database) -> AsyncIterator[TenantFactory]:
    """Creates fresh workspaces (each with a test and a live key) on demand."""
    clients: list[httpx.AsyncClient] = []

    async def make() -> Tenant:
        async with db.transaction() as session:
            workspace = await workspaces.create_workspace(session, "test workspace")
            test_key = await workspaces.create_api_key(session, workspace, Mode.TEST)
            live_key = await workspaces.create_api_key(session, workspace, Mode.LIVE)
        test = httpx.AsyncClient(base_url=server, headers={"Authorization": f"Bearer {test_key}"}, timeout=10)
        live = httpx.AsyncClient(base_url=server, headers={"Authorization": f"Bearer {live_key}"}, timeout=10)
        clients.extend((test, live))
        channels = (await test.get("/v1/channels")).json()["data"]
        by_type = {c["type"]: c["id"] for c in channels}
        return Tenant(workspace.id, test, live, by_type["whatsapp"], by_type["sms"], by_type["email"])

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def tenant(make_tenant: TenantFactory) -> Tenant:
    return await make_tenant()


@pytest.fixture
async def anonymous(server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server, timeout=10) as client:
        yield client


async def settled(db: Database, workspace_id: str, within: float = 10.0) -> None:
    """Wait until the workspace has no pending background work (statuses, replies,
    reviews), so whatever was going to happen has happened. No job may have died.
    Timers set for later (a window's reminder hours away) are not pending work."""

    async def pending() -> tuple[int, int]:
        async with db.sessionmaker() as session:
            rows = (
                await session.execute(
                    select(Job.dead, func.count())
                    .where(Job.workspace_id == workspace_id, Job.run_at < time.time() + within)
                    .group_by(Job.dead)
                )
            ).all()
        counts = {bool(dead): int(count) for dead, count in rows}
        return counts.get(False, 0), counts.get(True, 0)

    _, dead = await eventually(pending, lambda counts: counts[0] == 0, within)
    assert dead == 0, "a background job for this workspace died"


async def accept_in(session: AsyncSession, tenant: Tenant, **body: Any) -> Message:
    """Run what ``POST /v1/messages`` runs, inside the caller's transaction, so a test can
    change something else (the clock, an opt-out, a template) before the worker can see
    the message. Sends to CUSTOMER on the WhatsApp sandbox channel unless told otherwise."""
    workspace = await session.get(Workspace, tenant.workspace_id)
    assert workspace is not None
    request = SendMessage.model_validate({"channel_id": tenant.whatsapp, "to": CUSTOMER, **body})
    return await messages.accept(
        session, TenantRef(tenant.workspace_id, Mode.TEST), workspace.now(Mode.TEST), request
    )
