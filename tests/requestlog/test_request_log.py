"""Every authenticated API request is kept in the workspace's request log, also when it
was made while the database was unavailable."""

from pathlib import Path
from typing import Any

from sqlalchemy import select

from omniroute.core.db import Database
from omniroute.core.time import utcnow
from omniroute.migrations.runner import upgrade_async
from omniroute.requestlog.models import RequestLogEntry
from omniroute.requestlog.writer import RequestLogWriter
from tests.conftest import Tenant, eventually
from tests.database_outage import SimulatedOutage


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


async def test_entries_written_during_an_outage_are_kept_and_written_once_the_database_is_back(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'log.db'}"
    await upgrade_async(url)
    db = Database(url)
    outage = SimulatedOutage(db)
    writer = RequestLogWriter(db)
    entries = [log_entry(f"req_outage{index:04d}") for index in range(3)]
    outage.down = True
    for entry in entries:
        writer.record(entry)
    await writer.flush()
    assert outage.refused == 1
    outage.down = False
    await writer.flush()
    async with db.sessionmaker() as session:
        written = set(await session.scalars(select(RequestLogEntry.id)))
    await db.dispose()
    assert written == {entry["id"] for entry in entries}


def log_entry(request_id: str) -> dict[str, Any]:
    return {
        "id": request_id,
        "workspace_id": None,
        "mode": "test",
        "method": "GET",
        "path": "/v1/messages",
        "status_code": 200,
        "duration_ms": 1.0,
        "key_prefix": None,
        "idempotency_key": None,
        "created_at": utcnow(),
    }
