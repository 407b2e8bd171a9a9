"""Schemathesis over the whole served OpenAPI document, against a real server on the test
database (SQLite, or PostgreSQL when ``OMNIROUTE_TEST_DATABASE_URL`` is set).

Every operation is called with generated requests, valid and invalid (examples, boundary
values, then random ones), with a test key of a throwaway workspace; no answer may be a 5xx,
and every answer must be a status, content type and body the document declares for it.
Nothing is excluded: test mode never calls a real provider, so even the sandbox clock and
provider checks are safe to fuzz.

``OMNIROUTE_SCHEMATHESIS_EXAMPLES`` (default 5) bounds the random examples per operation;
``OMNIROUTE_SCHEMATHESIS_SEED`` (default 0) makes a run repeatable, so raise the first and
change the second to search further.
"""

import asyncio
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from schemathesis import Case, HookContext
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from omniroute.app import create_app
from omniroute.config import Settings
from omniroute.core.db import Database
from omniroute.core.tenancy import Mode
from omniroute.idempotency.service import HEADER as IDEMPOTENCY_HEADER
from omniroute.idempotency.service import MAX_KEY_LENGTH
from omniroute.migrations.runner import upgrade
from omniroute.workspaces import service as workspaces
from tests.conftest import CUSTOMER, POSITIONAL_BODY, scratch_database, serve

EXAMPLES = int(os.environ.get("OMNIROUTE_SCHEMATHESIS_EXAMPLES", "5"))
SEED = int(os.environ.get("OMNIROUTE_SCHEMATHESIS_SEED", "0"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    unsupported_method,  # a method the path does not have: 405 with Allow
]

T = TypeVar("T")


@dataclass(frozen=True)
class LiveServer:
    url: str
    headers: dict[str, str]
    answers: Counter[tuple[str, int]] = field(default_factory=Counter)
    """How often each operation answered each status (printed at the end, for ``-s``)."""

    def summary(self) -> str:
        operations = {label for label, _ in self.answers}
        by_status = Counter[int]()
        for (_, status), count in self.answers.items():
            by_status[status] += count
        return (
            f"schemathesis: {len(operations)} operations, {self.answers.total()} requests, "
            f"answers by status: {dict(sorted(by_status.items()))}; "
            f"real values: { {name: len(values) for name, values in REAL_VALUES.items()} }"
        )


REAL_VALUES: dict[str, list[str]] = {}
"""Ids (and a recipient) the throwaway workspace really has, by parameter name (filled by
``live_server``): generated requests use them half the time, so the work behind a 404 is
fuzzed too."""
DISPOSABLE_VALUES: dict[str, list[str]] = {}
"""The same for DELETE, with resources of its own, so the other operations keep theirs."""


async def _throwaway_test_key(settings: Settings) -> str:
    database = Database(settings.database_url)
    try:
        async with database.transaction() as session:
            workspace = await workspaces.create_workspace(session, "schemathesis")
            return await workspaces.create_api_key(session, workspace, Mode.TEST)
    finally:
        await database.dispose()


def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201, 202), response.text
    return dict(response.json())


def _new_endpoint(client: httpx.Client, server_url: str) -> str:
    """A webhook endpoint on the server itself (test mode may target loopback): its
    deliveries fail (405) and are retried, and nothing leaves the machine."""
    return str(_created(client.post("/v1/webhook-endpoints", json={"url": f"{server_url}/healthz"}))["id"])


def _first_delivery(client: httpx.Client, endpoint_id: str) -> list[str]:
    for _ in range(100):
        deliveries = client.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries").json()["data"]
        if deliveries:
            return [deliveries[0]["id"]]
        time.sleep(0.1)
    return []


def _seed(client: httpx.Client, server_url: str) -> None:
    """Give the workspace one of each resource, and DELETE its own channel, templates and
    webhook endpoint."""
    endpoint = _new_endpoint(client, server_url)
    channels = {c["type"]: c["id"] for c in client.get("/v1/channels").json()["data"]}
    whatsapp = channels["whatsapp"]
    inbound = client.post(
        "/v1/sandbox/inbound", json={"channel_id": whatsapp, "from": CUSTOMER, "text": {"body": "Hello"}}
    )
    received = _created(inbound)["message"]
    sent = _created(
        client.post("/v1/messages", json={"channel_id": whatsapp, "to": CUSTOMER, "text": {"body": "Hi"}})
    )
    template = {"language": "en", "category": "UTILITY", "components": [POSITIONAL_BODY]}

    def new_template(name: str) -> str:
        return str(
            _created(client.post(f"/v1/channels/{whatsapp}/templates", json={"name": name, **template}))["id"]
        )

    def new_sandbox_template(name: str) -> str:
        body = {"channel_id": whatsapp, "name": name, **template}
        return str(_created(client.post("/v1/sandbox/templates", json=body))["id"])

    REAL_VALUES.update(
        channel_id=list(channels.values()),
        contact_id=[received["contact_id"]],
        conversation_id=[received["conversation_id"]],
        message_id=[received["id"], sent["id"]],
        template_id=[new_template("order_update")],
        provider_template_id=[new_sandbox_template("made_in_meta")],
        endpoint_id=[endpoint],
        delivery_id=_first_delivery(client, endpoint),
        to=[CUSTOMER],
        **{"from": [CUSTOMER]},
    )
    disposable_channel = client.post(
        "/v1/channels", json={"type": "sms", "name": "disposable", "provider": "sandbox", "config": {}}
    )
    DISPOSABLE_VALUES.update(
        REAL_VALUES,
        channel_id=[_created(disposable_channel)["id"]],
        template_id=[new_template("disposable")],
        provider_template_id=[new_sandbox_template("disposable_in_meta")],
        endpoint_id=[_new_endpoint(client, server_url)],
    )


def _sometimes_real(context: HookContext, values: Any) -> SearchStrategy[Any]:
    if not isinstance(values, dict):
        return st.just(values)
    known = (
        DISPOSABLE_VALUES
        if context.operation and context.operation.method.upper() == "DELETE"
        else REAL_VALUES
    )
    return st.fixed_dictionaries(
        {
            name: st.sampled_from([value, *known[name]]) if name in known else st.just(value)
            for name, value in values.items()
        }
    )


@pytest.fixture(scope="module")
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """The app under uvicorn with its workers, in a thread with its own event loop (the
    schemathesis test is synchronous and would otherwise block the loop that serves it),
    on a database of its own (the suite's server sleeps with the suite's loop while this
    synchronous test runs, possibly inside a transaction that would hold SQLite's write
    lock), and a throwaway workspace with one of each resource."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="schemathesis-server", daemon=True)
    thread.start()

    def run(coroutine: Awaitable[T]) -> T:
        async def wrapped() -> T:
            return await coroutine

        return asyncio.run_coroutine_threadsafe(wrapped(), loop).result(timeout=60)

    own_settings = settings.model_copy(
        update={"database_url": run(scratch_database(settings, "schemathesis"))}
    )
    upgrade(own_settings.database_url)
    url, stop = run(serve(create_app(own_settings)))
    try:
        key = run(_throwaway_test_key(own_settings))
        server = LiveServer(url, {"Authorization": f"Bearer {key}"})
        with httpx.Client(base_url=url, headers=server.headers, timeout=30) as client:
            _seed(client, url)
        yield server
        print("\n" + server.summary())
    finally:
        run(stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


# The document the server serves, generated from the same app code (schemathesis needs it
# while pytest collects, before any server runs; ``test_the_served_document_is_the_one_tested``
# holds the two together).
DOCUMENT = create_app(Settings(), run_workers=False).openapi()
schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=SchemathesisConfig.from_dict({"seed": SEED, "generation": {"max-examples": EXAMPLES}}),
)
schema.hook("flatmap_path_parameters")(_sometimes_real)
schema.hook("flatmap_body")(_sometimes_real)


def test_the_served_document_is_the_one_tested(live_server: LiveServer) -> None:
    assert httpx.get(f"{live_server.url}/openapi.json").json() == DOCUMENT


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
def test_every_operation_answers_as_documented(case: Case, live_server: LiveServer) -> None:
    if case.headers and 0 < len(case.headers.get(IDEMPOTENCY_HEADER, "")) <= MAX_KEY_LENGTH:
        case.headers[IDEMPOTENCY_HEADER] = uuid.uuid4().hex  # a new request, not a replay or conflict
    response = case.call_and_validate(
        base_url=live_server.url, headers=live_server.headers, checks=CHECKS, timeout=30
    )
    live_server.answers[case.operation.label, response.status_code] += 1
