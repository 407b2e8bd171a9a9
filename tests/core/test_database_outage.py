"""A database outage: the server runs against a PostgreSQL cluster of this module's own
(``tests/database_outage.py``), which the tests stop, crash and restart. While the
database is down every request answers 503 with ``Retry-After`` (never a bare 500 or a
dropped connection), including Meta's webhook so that Meta retries, and a commit that
fails is answered too. Once the database is back everything works again; under load, a
restart and a crash lose no message and send none twice."""

import asyncio
import json
import os
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import httpx
import pytest
from asyncpg.exceptions import CannotConnectNowError
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from omniroute.app import create_app
from omniroute.config import Settings
from omniroute.core.db import Database, is_database_unavailable
from omniroute.emulator.app import create_emulator_app
from omniroute.emulator.config import EmulatorConfig
from omniroute.migrations.runner import upgrade_async
from tests.conftest import Tenant, _free_port, assert_error, eventually, serve
from tests.database_outage import ThrowawayPostgres, throwaway_postgres
from tests.providers.meta.live import ACCESS_TOKEN, APP_SECRET, create_meta_channel, sign
from tests.providers.meta.payloads import PHONE_NUMBER_ID, WABA_ID

SUITE_ON_POSTGRES = os.environ.get("OMNIROUTE_TEST_DATABASE_URL", "").startswith("postgresql")


@pytest.fixture(scope="module")
async def cluster() -> AsyncIterator[ThrowawayPostgres]:
    async with throwaway_postgres() as postgres:
        await upgrade_async(postgres.url)
        yield postgres


@pytest.fixture(scope="module")
def outage_settings(cluster: ThrowawayPostgres, settings: Settings) -> Settings:
    """The suite's settings (loopback targets allowed, a secrets key) on the throwaway cluster."""
    return settings.model_copy(update={"database_url": cluster.url})


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
    """The commit of the request that stores a message from ``sender`` finds the database
    gone (it crashed after the endpoint's work and before COMMIT)."""
    original = AsyncSession.commit

    def mark(session: Session, _context: Any, _instances: Any) -> None:
        if any(getattr(row, "sender", None) == sender for row in session.new):
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


MESSAGES = 200
CONCURRENT_CLIENTS = 10


@dataclass
class Load:
    """Sends through the API as a careful client does: a 503 is retried after a moment
    with the same Idempotency-Key; any other answer but 202 is kept for the assertions."""

    api: httpx.AsyncClient
    channel_id: str
    accepted: dict[str, str] = field(default_factory=dict)
    """Our message id by recipient."""
    unavailable: int = 0
    unexpected: list[str] = field(default_factory=list)

    async def send(self, recipient: str) -> None:
        body = {
            "channel_id": self.channel_id,
            "to": recipient,
            "template": {"name": "order_update", "language": "en", "parameters": {"body": ["Ada", "#4582"]}},
        }
        while True:
            response = await self.api.post("/v1/messages", json=body, headers={"Idempotency-Key": recipient})
            if response.status_code == 202:
                self.accepted[recipient] = response.json()["id"]
                return
            if response.status_code != 503:
                self.unexpected.append(f"{response.status_code} {response.text}")
                return
            assert_unavailable(response)
            self.unavailable += 1
            await asyncio.sleep(0.2)

    async def run(self, recipients: list[str]) -> None:
        queue = list(reversed(recipients))

        async def client() -> None:
            while queue:
                await self.send(queue.pop())

        await asyncio.gather(*(client() for _ in range(CONCURRENT_CLIENTS)))


async def restarts(cluster: ThrowawayPostgres, load: Load) -> None:
    """Under load: a clean restart, then a crash (immediate stop) with 3 s down."""
    import os as _os

    if _os.environ.get("NOFAULT"):
        return
    await eventually(lambda: asyncio.sleep(0, len(load.accepted)), lambda count: count >= MESSAGES // 4, 30)
    await cluster.stop("fast")
    await cluster.start()
    await eventually(lambda: asyncio.sleep(0, len(load.accepted)), lambda count: count >= MESSAGES // 2, 30)
    await cluster.stop("immediate")
    await asyncio.sleep(3)
    await cluster.start()


@pytest.mark.postgres_restart
@pytest.mark.skipif(not SUITE_ON_POSTGRES, reason="runs in the PostgreSQL run of the suite (about 50 s)")
async def test_a_restart_and_a_crash_under_load_lose_nothing_and_send_nothing_twice(
    tenant: Tenant, server: str, anonymous: httpx.AsyncClient, cluster: ThrowawayPostgres
) -> None:
    emulator_port = _free_port()
    meta = await create_meta_channel(
        tenant.live, anonymous, graph_base_url=f"http://127.0.0.1:{emulator_port}", api_version="v23.0"
    )
    config = EmulatorConfig(
        phone_number_id=PHONE_NUMBER_ID,
        waba_id=WABA_ID,
        app_secret=APP_SECRET,
        access_token=ACCESS_TOKEN,
        webhook_url=f"{server}{meta.hook_url}",
        throughput=1000,
        status_interval=0.1,
        review_seconds=0.1,
        webhook_time_scale=0.01,
    )
    _, stop_emulator = await serve(create_emulator_app(config), emulator_port)
    try:
        live = replace(tenant, test=tenant.live, whatsapp=meta.id)
        await live.approved_template("order_update")
        load = Load(tenant.live, meta.id)
        recipients = [f"+23480{index:04d}5678" for index in range(MESSAGES)]  # ordinary numbers
        await asyncio.gather(load.run(recipients), restarts(cluster, load))
        assert load.unexpected == []  # no 500, no dropped connection: only 202 and 503
        assert load.unavailable > 0  # the outages did meet the load
        assert sorted(load.accepted) == recipients

        async def statuses() -> Counter[str]:
            return Counter(
                [(await live.message(message_id))["status"] for message_id in load.accepted.values()]
            )

        # Statuses webhooks refused during the outage come again, as Meta retries them.
        await eventually(statuses, lambda counts: counts == {"read": MESSAGES}, timeout=45)
        messages = [await live.message(message_id) for message_id in load.accepted.values()]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{emulator_port}") as control:
            received = (await control.get("/_emulator/messages")).json()["received"]
    finally:
        await stop_emulator()
    calls = Counter(request["request"]["biz_opaque_callback_data"] for request in received)
    assert set(calls) == set(load.accepted.values())  # none lost
    assert set(calls.values()) == {1}  # none sent twice
    assert all(message["attempts"] == 1 for message in messages)
    lags = [dispatch_lag(message) for message in messages]
    print(f"\n{MESSAGES} sends, {load.unavailable} answers 503; accept-to-sending lag max {max(lags):.2f}s")


def dispatch_lag(message: dict[str, Any]) -> float:
    history = {change["status"]: datetime.fromisoformat(change["at"]) for change in message["status_history"]}
    return (history["sending"] - history["queued"]).total_seconds()


def wrapped(error: Exception) -> Exception:
    """``error`` as SQLAlchemy raises it: a DBAPIError whose cause is the driver's error."""
    try:
        try:
            raise error
        except Exception as cause:
            raise DBAPIError("SELECT 1", {}, cause) from cause
    except DBAPIError as raised:
        return raised


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (OperationalError("SELECT 1", {}, ConnectionRefusedError(111, "Connection refused")), True),
        (OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked")), True),
        (wrapped(CannotConnectNowError("the database system is starting up")), True),
        (SQLAlchemyTimeoutError("QueuePool limit of size 20 overflow 20 reached"), True),
        (OperationalError("SELECT x", {}, sqlite3.OperationalError("no such table: x")), False),
        (IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed")), False),
        (ValueError("a bug"), False),
    ],
)
def test_only_errors_that_mean_not_now_count_as_the_database_being_unavailable(
    error: Exception, unavailable: bool
) -> None:
    assert is_database_unavailable(error) is unavailable
