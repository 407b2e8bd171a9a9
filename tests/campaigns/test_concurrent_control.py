"""Pause, resume and cancel fired at once, at each other and at a campaign being
dispatched: never a 5xx, each action takes effect once or is refused with 409, and
nothing reaches the network after a cancel returns but what was already being sent.
The races need concurrent writers, which only PostgreSQL has (SQLite serialises them)."""

import asyncio
import time
from collections import Counter
from typing import Any

import pytest

from omniroute.core.db import Database
from omniroute.providers.base import OutboundMessage
from omniroute.providers.sandbox.provider import SandboxWhatsApp
from tests.campaigns.support import create, fetch, ok, recipients, set_throughput, until
from tests.conftest import Tenant, eventually, settled

pytestmark = pytest.mark.usefixtures("concurrent_writers")

ACTIONS = ("pause", "resume", "cancel")


@pytest.fixture
def delivered_to_network(monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    """The message ids the simulated network took (refusals not counted), with when."""
    taken: dict[str, float] = {}
    check = SandboxWhatsApp._check_limits

    def recorded(self: SandboxWhatsApp, message: OutboundMessage) -> None:
        check(self, message)
        taken[message.message_id] = time.monotonic()

    monkeypatch.setattr(SandboxWhatsApp, "_check_limits", recorded)
    return taken


async def fire(tenant: Tenant, campaign_id: str, actions: list[str]) -> list[tuple[str, int]]:
    """Every action at once; each answer's status code."""
    responses = await asyncio.gather(
        *(tenant.test.post(f"/v1/campaigns/{campaign_id}/{action}") for action in actions)
    )
    assert all(r.status_code in (200, 409) for r in responses), [r.text for r in responses]
    return [(action, r.status_code) for action, r in zip(actions, responses, strict=True)]


async def messages_of(tenant: Tenant, campaign_id: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    params: dict[str, Any] = {"campaign_id": campaign_id, "limit": 200}
    while True:
        page = ok(await tenant.test.get("/v1/messages", params=params))
        found.update({m["id"]: m for m in page["data"]})
        if not page["has_more"]:
            return found
        params["starting_after"] = page["next_cursor"]


async def paused_events(tenant: Tenant, campaign_id: str) -> int:
    response = await tenant.test.get(
        "/v1/logs", params={"kind": "event", "campaign_id": campaign_id, "limit": 200}
    )
    return sum(1 for e in ok(response)["data"] if e["type"] == "campaign.paused")


def consistent(counts: dict[str, int]) -> bool:
    return counts["total"] == (
        counts["queued"] + counts["sent"] + counts["failed"] + counts["skipped"] + counts["cancelled"]
    )


async def test_pause_resume_and_cancel_racing_each_other_take_effect_once_each(
    tenant: Tenant, db: Database
) -> None:
    await tenant.approved_template()
    await set_throughput(tenant, 20)
    campaign = await create(tenant, recipients(200))
    cid = campaign["id"]

    answers = await fire(tenant, cid, ["pause"] * 4 + ["resume"] * 4)
    paused = Counter(a for a, status in answers if status == 200)
    # Every pause that took effect was of a running campaign, every resume of a paused
    # one: the successes alternate, so they differ by at most one.
    assert paused["pause"] >= 1 and paused["pause"] - paused["resume"] in (0, 1)
    assert (await fetch(tenant, cid))["status"] == (
        "paused" if paused["pause"] > paused["resume"] else "running"
    )
    assert await paused_events(tenant, cid) == paused["pause"], "one event per pause that took effect"

    answers = await fire(tenant, cid, ["cancel"] * 3 + ["pause"] * 2 + ["resume"] * 2)
    assert Counter(a for a, status in answers if status == 200)["cancel"] == 1
    final = await fetch(tenant, cid)
    assert final["status"] == "cancelled"
    for action in ACTIONS:  # a cancelled campaign stays cancelled
        assert (await tenant.test.post(f"/v1/campaigns/{cid}/{action}")).status_code == 409
    await settled(db, tenant.workspace_id, within=30)
    counts = (await fetch(tenant, cid))["counts"]
    assert counts["queued"] == 0 and consistent(counts), counts


async def test_a_cancel_racing_dispatch_leaves_nothing_to_be_sent_after_it_returns(
    tenant: Tenant, db: Database, delivered_to_network: dict[str, float]
) -> None:
    await tenant.approved_template()
    await set_throughput(tenant, 80)
    campaign = await create(tenant, recipients(400))
    cid = campaign["id"]
    await eventually(lambda: fetch(tenant, cid), lambda c: c["counts"]["sent"] >= 40, 20)

    answers = await fire(tenant, cid, ["cancel", "pause", "cancel", "resume", "cancel"])
    assert Counter(a for a, status in answers if status == 200)["cancel"] == 1
    returned = time.monotonic()
    at_cancel = await messages_of(tenant, cid)
    being_sent = {m for m, message in at_cancel.items() if message["status"] != "failed"}

    await settled(db, tenant.workspace_id, within=30)
    after = {m for m, at in delivered_to_network.items() if at > returned}
    assert after <= being_sent, "only sends already marked went after the cancel returned"
    final = await messages_of(tenant, cid)
    cancelled = {
        m for m, message in final.items() if (message["error"] or {}).get("code") == "campaign_cancelled"
    }
    assert cancelled and not cancelled & set(delivered_to_network), "no cancelled message reached the network"
    assert set(delivered_to_network) == {m for m, message in final.items() if message["status"] != "failed"}

    done = await fetch(tenant, cid)
    counts = done["counts"]
    assert done["status"] == "cancelled" and counts["queued"] == 0 and consistent(counts), counts
    assert counts["sent"] == len(delivered_to_network)
    assert counts["failed"] == len(cancelled)


async def test_a_resume_racing_the_run_job_always_leaves_the_campaign_running(tenant: Tenant) -> None:
    await tenant.approved_template()
    await set_throughput(tenant, 50)
    campaign = await create(tenant, recipients(300))
    cid = campaign["id"]
    for _ in range(5):
        assert ok(await tenant.test.post(f"/v1/campaigns/{cid}/pause"))["status"] == "paused"
        await asyncio.sleep(0.3)  # the run job looks at it, paused, meanwhile
        assert ok(await tenant.test.post(f"/v1/campaigns/{cid}/resume"))["status"] == "running"
    done = await until(tenant, cid, "completed", within=90)
    assert done["counts"]["sent"] == 300
