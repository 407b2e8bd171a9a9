"""Pausing, resuming and cancelling a campaign, by hand and by its quality guard: a number
whose quality drops to RED, a template Meta pauses, a burst of quality failures."""

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from omniroute.config import Settings
from omniroute.core.db import Database
from omniroute.messages.models import Message, MessageStatus
from omniroute.providers.events import ChannelQualityUpdate
from tests.campaigns.support import create, fetch, ok, recipients, recipients_of, set_throughput, until
from tests.conftest import Tenant, assert_error, eventually
from tests.templates.support import clock, inject, review


async def sent_some(tenant: Tenant, campaign_id: str) -> dict[str, Any]:
    return dict(await eventually(lambda: fetch(tenant, campaign_id), lambda c: c["counts"]["sent"] >= 3))


async def paused_events(tenant: Tenant, campaign_id: str) -> list[dict[str, Any]]:
    response = await tenant.test.get(
        "/v1/logs", params={"kind": "event", "campaign_id": campaign_id, "limit": 200}
    )
    return [e for e in ok(response)["data"] if e["type"] == "campaign.paused"]


async def test_a_paused_campaign_sends_nothing_until_resumed_then_completes(
    tenant: Tenant, db: Database
) -> None:
    await tenant.approved_template()
    await set_throughput(tenant, 10)
    campaign = await create(tenant, recipients(30))
    await sent_some(tenant, campaign["id"])
    paused = ok(await tenant.test.post(f"/v1/campaigns/{campaign['id']}/pause"))
    assert paused["status"] == "paused" and paused["paused_reason"] == "requested"
    await asyncio.sleep(1.5)  # what was already at the provider (slots up to 1 s ahead) finished
    held = await fetch(tenant, campaign["id"])
    await asyncio.sleep(2)
    later = (await fetch(tenant, campaign["id"]))["counts"]
    assert (later["sent"], later["queued"]) == (held["counts"]["sent"], held["counts"]["queued"])  # none went
    assert held["counts"]["queued"] > 0
    assert_error(
        await tenant.test.post(f"/v1/campaigns/{campaign['id']}/pause"), 409, "campaign_state_invalid"
    )

    assert ok(await tenant.test.post(f"/v1/campaigns/{campaign['id']}/resume"))["status"] == "running"
    done = await until(tenant, campaign["id"], "completed", within=90)
    assert done["counts"]["sent"] == 30 and done["counts"]["queued"] == 0
    assert [e["data"]["reason"] for e in await paused_events(tenant, campaign["id"])] == ["requested"]


async def test_cancel_fails_the_queued_messages_and_keeps_the_sent(tenant: Tenant, db: Database) -> None:
    await tenant.approved_template()
    await set_throughput(tenant, 10)
    campaign = await create(tenant, recipients(600))
    await sent_some(tenant, campaign["id"])
    cancelled = ok(await tenant.test.post(f"/v1/campaigns/{campaign['id']}/cancel"))
    assert cancelled["status"] == "cancelled"
    final = await eventually(lambda: fetch(tenant, campaign["id"]), lambda c: c["counts"]["queued"] == 0)
    counts = final["counts"]
    assert counts["sent"] >= 3
    assert counts["cancelled"] > 0  # never made into messages
    assert counts["sent"] + counts["failed"] + counts["cancelled"] == 600
    failed = await recipients_of(tenant, campaign["id"], "failed")
    assert failed and {r["reason"] for r in failed} == {"campaign_cancelled"}
    assert_error(
        await tenant.test.post(f"/v1/campaigns/{campaign['id']}/resume"), 409, "campaign_state_invalid"
    )


async def test_a_number_whose_quality_drops_to_red_pauses_the_campaign(tenant: Tenant, db: Database) -> None:
    await tenant.approved_template()
    await set_throughput(tenant, 10)
    campaign = await create(tenant, recipients(30))
    await sent_some(tenant, campaign["id"])
    now = await clock(tenant)
    await inject(db, tenant, ChannelQualityUpdate(event="FLAGGED", quality_rating="RED", timestamp=now))
    paused = await until(tenant, campaign["id"], "paused", within=5)
    assert paused["paused_reason"] == "channel_quality_red"
    assert [e["data"]["reason"] for e in await paused_events(tenant, campaign["id"])] == [
        "channel_quality_red"
    ]

    await inject(db, tenant, ChannelQualityUpdate(event="UNFLAGGED", quality_rating="GREEN", timestamp=now))
    ok(await tenant.test.post(f"/v1/campaigns/{campaign['id']}/resume"))
    done = await until(tenant, campaign["id"], "completed", within=90)
    assert done["counts"]["sent"] == 30


async def test_a_template_paused_mid_campaign_pauses_it(tenant: Tenant, db: Database) -> None:
    template = await tenant.approved_template()
    await set_throughput(tenant, 10)
    campaign = await create(tenant, recipients(30))
    await sent_some(tenant, campaign["id"])
    await review(db, tenant, template, "PAUSED", reason="Low quality")
    paused = await until(tenant, campaign["id"], "paused", within=5)
    assert paused["paused_reason"] == "template_paused"


async def test_a_burst_of_quality_failures_pauses_the_campaign(
    tenant: Tenant, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "campaign_failure_threshold", 2)
    await tenant.approved_template()
    await set_throughput(tenant, 10)
    campaign = await create(tenant, recipients(100))
    await sent_some(tenant, campaign["id"])
    async with db.transaction() as session:
        made = (
            await session.scalars(select(Message).where(Message.campaign_id == campaign["id"]).limit(2))
        ).all()
        for message in made:  # Meta reported them failed for the marketing limit (131049)
            message.status = MessageStatus.FAILED
            message.error = {"code": "ecosystem_limit", "message": "marketing limit", "provider_code": 131049}
    paused = await until(tenant, campaign["id"], "paused", within=5)
    assert paused["paused_reason"] == "quality_failures"
    ok(await tenant.test.post(f"/v1/campaigns/{campaign['id']}/cancel"))
