"""One clock: in test mode every timestamp a user can see comes from the workspace's test
clock, whichever row it is on and whoever (request, worker, provider event) wrote it."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from omniroute.channels.models import Channel
from omniroute.core.db import Database
from omniroute.core.time import rfc3339
from omniroute.workspaces.models import Workspace
from tests.conftest import CUSTOMER, Tenant, eventually, settled, ts
from tests.webhooks.conftest import Receiver

AHEAD = 25 * 3600
"""The test clock runs 25 h ahead of real time: a real-time stamp is a day off."""


def assert_on_test_clock(value: str | None, what: str) -> None:
    assert value is not None, f"{what} is missing"
    expected = datetime.now(UTC) + timedelta(seconds=AHEAD)
    assert abs(ts(value) - expected) < timedelta(minutes=2), (
        f"{what} = {value} is not on the test clock ({expected.isoformat()})"
    )


async def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code < 300, response.text
    return dict(response.json())


async def test_every_timestamp_of_test_mode_data_follows_the_advanced_test_clock(
    tenant: Tenant, db: Database, receiver: Receiver
) -> None:
    await tenant.advance_clock(AHEAD)
    endpoint = await ok(
        await tenant.test.post("/v1/webhook-endpoints", json={"url": receiver.url, "events": ["*"]})
    )
    assert_on_test_clock(endpoint["created_at"], "webhook endpoint created_at")
    channel = await ok(
        await tenant.test.post(
            "/v1/channels", json={"type": "sms", "name": "Clock SMS", "provider": "sandbox"}
        )
    )
    assert_on_test_clock(channel["created_at"], "channel created_at")

    await ok(await tenant.inbound(CUSTOMER, "Hello"))
    [conversation] = (await ok(await tenant.test.get("/v1/conversations")))["data"]
    assert_on_test_clock(conversation["created_at"], "conversation created_at")
    assert_on_test_clock(conversation["last_message_at"], "conversation last_message_at")
    [contact] = (await ok(await tenant.test.get("/v1/contacts", params={"address": CUSTOMER})))["data"]
    assert_on_test_clock(contact["created_at"], "contact created_at")

    sent = await ok(await tenant.send(CUSTOMER))
    read = await tenant.wait_for(sent["id"], "read")
    assert_on_test_clock(read["created_at"], "message created_at")
    for change in read["status_history"]:
        assert_on_test_clock(change["at"], f"message status {change['status']}")

    template = await tenant.approved_template("clock_check")
    assert_on_test_clock(template["created_at"], "template created_at")
    assert_on_test_clock(template["updated_at"], "template updated_at")
    assert (await tenant.test.delete(f"/v1/templates/{template['id']}")).status_code < 300

    async def fetch_template() -> dict[str, Any]:
        return await ok(await tenant.test.get(f"/v1/templates/{template['id']}"))

    deleted = await eventually(fetch_template, lambda t: t["status"] == "DELETED")
    assert_on_test_clock(deleted["updated_at"], "deleted template updated_at")
    for change in deleted["status_history"]:
        assert_on_test_clock(change["at"], f"template status {change['status']}")
    await settled(db, tenant.workspace_id)

    def deleted_hook(received: list[Any]) -> bool:
        return any(
            r.json["type"] == "template.status_updated" and r.json["data"].get("status") == "DELETED"
            for r in received
        )

    await eventually(lambda: receiver.wait(1), deleted_hook)
    for hook in receiver.received:
        assert_on_test_clock(hook.json["timestamp"], f"webhook {hook.json['type']} timestamp")

    async def deliveries() -> list[dict[str, Any]]:
        page = await ok(await tenant.test.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries"))
        return list(page["data"])

    delivered = await eventually(deliveries, lambda rows: rows and all(r["attempts"] for r in rows))
    for delivery in delivered:
        assert_on_test_clock(delivery["created_at"], "webhook delivery created_at")
        for attempt in delivery["attempts"]:
            assert_on_test_clock(attempt["created_at"], "webhook attempt created_at")

    async def request_log() -> list[dict[str, Any]]:
        return list((await ok(await tenant.test.get("/v1/logs", params={"kind": "request"})))["data"])

    for row in await eventually(request_log, lambda rows: len(rows) >= 5):  # newest first
        if row["path"] == "/v1/sandbox/clock/advance":
            break  # it, and what came before, happened before the clock moved
        assert_on_test_clock(row["created_at"], f"request log row {row['method']} {row['path']}")
    events = (await ok(await tenant.test.get("/v1/logs", params={"kind": "event", "limit": 200})))["data"]
    assert events
    for event in events:
        assert_on_test_clock(event["created_at"], f"event {event['type']} created_at")
        assert_on_test_clock(event["occurred_at"], f"event {event['type']} occurred_at")


async def test_a_channel_deleted_after_the_clock_moved_is_stamped_on_the_test_clock(
    tenant: Tenant, db: Database
) -> None:
    await tenant.advance_clock(AHEAD)
    channel = await ok(
        await tenant.test.post(
            "/v1/channels", json={"type": "sms", "name": "Short-lived", "provider": "sandbox"}
        )
    )
    assert (await tenant.test.delete(f"/v1/channels/{channel['id']}")).status_code == 204
    async with db.sessionmaker() as session:
        row = await session.get(Channel, channel["id"])
        assert row is not None and row.deleted_at is not None
        assert_on_test_clock(row.deleted_at.isoformat(), "channel deleted_at")


async def test_live_mode_keeps_real_time_when_the_test_clock_moved(tenant: Tenant) -> None:
    await tenant.advance_clock(AHEAD)
    channel = await ok(
        await tenant.live.post(
            "/v1/channels", json={"type": "sms", "name": "Live SMS", "provider": "sandbox"}
        )
    )
    assert abs(ts(channel["created_at"]) - datetime.now(UTC)) < timedelta(minutes=2)


def test_a_rows_plain_mode_string_reads_the_test_clock() -> None:
    """A loaded ``mode`` column is the string "test", not ``Mode.TEST``: it must still pick
    the test clock (it did not, and a deleted template was stamped with real time)."""
    workspace = Workspace(test_clock_offset_seconds=float(AHEAD))
    assert_on_test_clock(rfc3339(workspace.now("test")), "Workspace.now('test')")
    assert abs(workspace.now("live") - datetime.now(UTC)) < timedelta(minutes=2)
