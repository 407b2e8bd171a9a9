"""GET /v1/logs: the workspace's API requests and events, newest first, filtered,
paginated, mode-isolated, and forgotten after the retention period."""

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from omniroute.core.db import Database
from omniroute.core.tenancy import Mode, TenantRef
from omniroute.core.time import rfc3339, utcnow
from omniroute.events import service as events
from omniroute.events.models import Event
from omniroute.events.types import EventType
from omniroute.logs.service import purge
from omniroute.requestlog.models import RequestLogEntry
from tests.conftest import Tenant, assert_error, eventually


async def logs(tenant: Tenant, **params: Any) -> dict[str, Any]:
    response = await tenant.test.get("/v1/logs", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_requests_are_logged_with_what_identifies_them(tenant: Tenant) -> None:
    response = await tenant.test.post(
        "/v1/sandbox/inbound",
        json={"channel_id": tenant.whatsapp, "from": "+2348012345678", "text": {"body": "hi"}},
        headers={"Idempotency-Key": "inbound-1"},
    )
    request_id = response.headers["x-request-id"]

    async def requests() -> list[dict[str, Any]]:
        return list((await logs(tenant, kind="request"))["data"])

    found = await eventually(requests, lambda rows: any(r["id"] == request_id for r in rows))
    [entry] = [r for r in found if r["id"] == request_id]
    assert entry["object"] == "request" and entry["request_id"] == request_id
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/v1/sandbox/inbound", 201)
    assert entry["idempotency_key"] == "inbound-1"
    assert entry["key_prefix"].startswith("or_test_")
    assert entry["duration_ms"] > 0
    assert all(r["object"] == "request" for r in found)


async def test_both_kinds_newest_first_across_pages(tenant: Tenant) -> None:
    for body in ("one", "two", "three"):
        await tenant.inbound(body=body)
    await eventually(lambda: logs(tenant, kind="request"), lambda page: len(page["data"]) >= 3)
    everything = (await logs(tenant, limit=200))["data"]
    assert {e["object"] for e in everything} == {"request", "event"}
    suffixes = [e["id"].partition("_")[2] for e in everything]
    assert suffixes == sorted(suffixes, reverse=True)
    walked: list[str] = []
    cursor = None
    while True:
        page = await logs(tenant, limit=2, **({"starting_after": cursor} if cursor else {}))
        walked.extend(e["id"] for e in page["data"])
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    # Entries keep arriving while the test reads (its own GETs are logged, a little later):
    # the walk holds every entry there was, in the same order, each once.
    expected = [e["id"] for e in everything]
    assert [entry for entry in walked if entry in set(expected)] == expected
    assert len(walked) == len(set(walked))


async def test_event_filters(tenant: Tenant) -> None:
    await tenant.inbound()
    sent = (await tenant.send()).json()
    await tenant.wait_for(sent["id"], "read")
    by_message = (await logs(tenant, message_id=sent["id"]))["data"]
    assert {e["message_id"] for e in by_message} == {sent["id"]}
    assert all(e["object"] == "event" for e in by_message)
    by_type = (await logs(tenant, type="message.received"))["data"]
    assert [e["type"] for e in by_type] == ["message.received"]
    later = rfc3339(utcnow() + timedelta(minutes=1))
    assert (await logs(tenant, kind="event", since=later))["data"] == []
    assert len((await logs(tenant, kind="event", until=later))["data"]) >= 5
    assert_error(await tenant.test.get("/v1/logs", params={"type": "message.lost"}), 422, "parameter_invalid")
    assert_error(await tenant.test.get("/v1/logs", params={"kind": "audit"}), 422, "parameter_invalid")
    mixed = await tenant.test.get("/v1/logs", params={"kind": "request", "message_id": sent["id"]})
    assert_error(mixed, 422, "parameter_invalid", param="message_id")


async def test_logs_are_isolated_by_mode(tenant: Tenant) -> None:
    await tenant.inbound()
    live = await tenant.live.get("/v1/logs", params={"kind": "event"})
    assert live.status_code == 200 and live.json()["data"] == []


async def test_entries_past_the_retention_are_purged(tenant: Tenant, db: Database) -> None:
    old = utcnow() - timedelta(days=31)
    scope = TenantRef(tenant.workspace_id, Mode.TEST)
    async with db.transaction() as session:
        stale = events.record(session, scope, EventType.CHANNEL_QUALITY_UPDATED, {}, at=old)
        fresh = events.record(session, scope, EventType.CHANNEL_QUALITY_UPDATED, {}, at=old)
        stale.created_at, stale.fanout_pending = old, False
        session.add(
            RequestLogEntry(
                id="req_00000000000000000000000000",
                workspace_id=tenant.workspace_id,
                mode="test",
                method="GET",
                path="/v1/channels",
                status_code=200,
                duration_ms=1.0,
                created_at=old,
            )
        )
    async with db.transaction() as session:
        await purge(session, timedelta(days=30))
    async with db.sessionmaker() as session:
        kept = set(await session.scalars(select(Event.id).where(Event.id.in_([stale.id, fresh.id]))))
        old_request = await session.get(RequestLogEntry, "req_00000000000000000000000000")
    assert kept == {fresh.id}
    assert old_request is None


async def test_a_workspace_whose_test_clock_ran_ahead_forgets_its_test_logs_by_that_clock(
    tenant: Tenant, db: Database
) -> None:
    await tenant.inbound(body="a month ago, by the test clock")
    await eventually(lambda: logs(tenant, kind="request"), lambda page: len(page["data"]) >= 1)

    async def events_waiting_for_fan_out() -> int:
        async with db.sessionmaker() as session:
            pending = select(Event.id).where(
                Event.workspace_id == tenant.workspace_id, Event.fanout_pending.is_(True)
            )
            return len((await session.scalars(pending)).all())

    await eventually(events_waiting_for_fan_out, lambda count: count == 0)  # only those are purged
    await tenant.advance_clock(31 * 24 * 3600)
    async with db.transaction() as session:
        await purge(session, timedelta(days=30))
    page = await logs(tenant, limit=200)
    assert [row for row in page["data"] if "a month ago" in str(row)] == []
    # The test's own log reads are logged a moment after they answer, so one may land after
    # the purge: every other request of the month before is gone.
    assert all(
        row["path"] in ("/v1/sandbox/clock/advance", "/v1/logs")
        for row in page["data"]
        if row["object"] == "request"
    )
