"""A database outage: the server runs against a PostgreSQL cluster of this module's own
(``tests.database_outage.py``), which the tests stop, crash and restart. While the
database is down every request answers 503 with ``Retry-After`` (never a bare 500 or a
dropped connection), including Meta's webhook so that Meta retries, and a commit that
fails is answered too. Once the database is back everything works again."""

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from omniroute.app import create_app
from omniroute.config import Settings
from omniroute.core.db import Database
from omniroute.migrations.runner import upgrade_async
from tests.conftest import FAST_SANDBOX, Tenant, assert_error, eventually, serve
from tests.database_outage import ThrowawayPostgres, throwaway_postgres
from tests.providers.meta.live import create_meta_channel, sign


@pytest.fixture(scope="module")
async def cluster() -> AsyncIterator[ThrowawayPostgres]:
    async with throwaway_postgres() as postgres:
        await upgrade_async(postgres.url)
        yield postgres


@pytest.fixture(scope="module")
def outage_settings(cluster: ThrowawayPostgres) -> Settings:
    return Settings(database_url=cluster.url, **FAST_SANDBOX)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
async def server(outage_settings: Settings) -> AsyncIterator[str]:
    """Overrides the suite's server: this module's own, on the throwaway cluster."""
    url, stop = await serve(create_app(outage_settings))
    yield url
    await stop()


@pytest.fixture(scope="module")
async def db(outage_settings: Settings) -> AsyncIterator[Database]:
    database = Database(outage_settings.database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def database_down(cluster: ThrowawayPostgres) -> AsyncIterator[None]:
    await cluster.stop("immediate")
    yield
    await cluster.start()


def assert_unavailable(response: httpx.Response) -> None:
    error = assert_error(response, 503, "service_unavailable", error_type="api_error")
    assert int(response.headers["retry-after"]) > 0
    assert "retry" in error["message"].lower()


async def test_every_request_during_an_outage_is_a_503_to_retry(
    tenant: Tenant, anonymous: httpx.AsyncClient, cluster: ThrowawayPostgres
) -> None:
    meta = await create_meta_channel(tenant.live, anonymous)
    status_webhook = {"object": "whatsapp_business_account", "entry": []}
    await cluster.stop("immediate")
    try:
        assert_unavailable(await tenant.send())
        assert_unavailable(await tenant.test.get("/v1/messages"))
        assert_unavailable(await tenant.test.get("/v1/channels", headers={"Idempotency-Key": "k-1"}))
        assert_unavailable(await meta.deliver(status_webhook))  # non-2xx: Meta retries it later
        assert (await anonymous.get("/healthz")).status_code == 503
    finally:
        await cluster.start()
    assert (await tenant.send()).status_code in (202, 409)
    assert (await meta.deliver(status_webhook)).status_code == 200
    assert (await tenant.test.get("/v1/channels", headers={"Idempotency-Key": "k-1"})).status_code == 200


CRASHING_SENDER = "+2348012349999"


@contextmanager
def crash_when_committing_a_request_from(sender: str, cluster: ThrowawayPostgres) -> Iterator[None]:
    """The commit of the request that stores ``sender``'s contact finds the database gone
    (it crashed after the endpoint's work and before COMMIT)."""
    original = AsyncSession.commit

    def mark(session: Session, _context: Any, _instances: Any) -> None:
        if any(getattr(row, "address", None) == sender for row in session.new):
            session.info["crash_on_commit"] = True

    async def commit(session: AsyncSession) -> None:
        if session.info.pop("crash_on_commit", False):
            await cluster.stop("immediate")
        await original(session)

    event.listen(Session, "before_flush", mark)
    AsyncSession.commit = commit  # type: ignore[method-assign]
    try:
        yield
    finally:
        AsyncSession.commit = original  # type: ignore[method-assign]
        event.remove(Session, "before_flush", mark)


async def test_a_commit_that_fails_is_answered_503_not_dropped(
    tenant: Tenant, cluster: ThrowawayPostgres
) -> None:
    try:
        with crash_when_committing_a_request_from(CRASHING_SENDER, cluster):
            assert_unavailable(await tenant.inbound(CRASHING_SENDER))
    finally:
        await cluster.start()
    assert (await tenant.inbound(CRASHING_SENDER)).status_code == 201


async def test_meta_webhooks_refused_during_an_outage_are_accepted_once_it_is_over(
    tenant: Tenant, anonymous: httpx.AsyncClient, cluster: ThrowawayPostgres
) -> None:
    meta = await create_meta_channel(tenant.live, anonymous)
    body = json.dumps({"object": "whatsapp_business_account", "entry": []}).encode()
    headers = {"X-Hub-Signature-256": sign(body), "Content-Type": "application/json"}
    await cluster.stop("fast")
    try:
        assert_unavailable(await anonymous.post(meta.hook_url, content=body, headers=headers))
    finally:
        await cluster.start()
    accepted = await eventually(
        lambda: anonymous.post(meta.hook_url, content=body, headers=headers),
        lambda response: response.status_code == 200,
    )
    received: dict[str, Any] = accepted.json()
    assert received == {"received": True, "duplicate": False}
