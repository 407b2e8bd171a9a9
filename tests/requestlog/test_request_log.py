"""Every authenticated API request is kept in the workspace's request log."""

from typing import Any

from sqlalchemy import select

from omniroute.core.db import Database
from omniroute.requestlog.models import RequestLogEntry
from tests.conftest import Tenant, eventually


async def logged(db: Database, request_id: str) -> RequestLogEntry | None:
    async with db.sessionmaker() as session:
        return await session.scalar(select(RequestLogEntry).where(RequestLogEntry.id == request_id))


async def wait_logged(db: Database, request_id: str) -> Any:
    return await eventually(lambda: logged(db, request_id), lambda entry: entry is not None)


async def test_a_request_is_logged_under_its_request_id(tenant: Tenant, db: Database) -> None:
    response = await tenant.test.post(
        "/v1/sandbox/clock/advance", json={"seconds": 60}, headers={"Idempotency-Key": "log-1"}
    )
    entry = await wait_logged(db, response.headers["x-request-id"])
    assert (entry.workspace_id, entry.mode) == (tenant.workspace_id, "test")
    assert (entry.method, entry.path, entry.status_code) == ("POST", "/v1/sandbox/clock/advance", 200)
    assert entry.idempotency_key == "log-1"
    assert entry.key_prefix.startswith("or_test_")
    assert entry.duration_ms >= 0


async def test_refused_requests_are_logged_with_their_status(tenant: Tenant, db: Database) -> None:
    response = await tenant.send()
    entry = await wait_logged(db, response.headers["x-request-id"])
    assert entry.status_code == 409


async def test_a_request_with_an_overlong_idempotency_key_is_still_logged(
    tenant: Tenant, db: Database
) -> None:
    response = await tenant.test.post(
        "/v1/sandbox/clock/advance", json={"seconds": 60}, headers={"Idempotency-Key": "k" * 300}
    )
    assert response.status_code == 422
    entry = await wait_logged(db, response.headers["x-request-id"])
    assert entry.status_code == 422
    assert entry.idempotency_key == "k" * 255
