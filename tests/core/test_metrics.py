"""GET /metrics: Prometheus text with what was accepted and dispatched per channel, the
provider's latency, and the queue as the database shows it; guarded by a token when one
is set, absent when disabled."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from omniroute.app import create_app
from omniroute.config import Settings
from omniroute.core.metrics import LaneDepth, queue_families
from tests.conftest import Tenant, assert_error, serve


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_a_scrape_shows_the_channels_accepted_and_dispatched_messages(
    tenant: Tenant, anonymous: httpx.AsyncClient
) -> None:
    await tenant.inbound()
    normal = (await tenant.send()).json()
    high = (await tenant.send(priority="high")).json()
    await tenant.wait_for(normal["id"], "sent")
    await tenant.wait_for(high["id"], "sent")

    response = await anonymous.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    scraped = samples(response.text)
    channel = ("channel", tenant.whatsapp)
    assert scraped["omniroute_messages_accepted_total", frozenset({channel, ("lane", "normal")})] == 1
    assert scraped["omniroute_messages_accepted_total", frozenset({channel, ("lane", "high")})] == 1
    sent = frozenset({channel, ("outcome", "sent"), ("code", "")})
    assert scraped["omniroute_dispatch_outcomes_total", sent] == 2
    assert scraped["omniroute_provider_send_seconds_count", frozenset({channel})] == 2
    assert "# TYPE omniroute_queue_depth gauge" in response.text


def test_the_queue_is_shown_per_channel_and_lane_with_the_age_of_its_oldest_message() -> None:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    depths = [
        LaneDepth("ch_a", "bulk", 1500, now - timedelta(seconds=90)),
        LaneDepth("ch_a", "high", 2, now - timedelta(seconds=0.5)),
    ]

    families = {family.name: family for family in queue_families(depths, now)}

    depth = {sample.labels["lane"]: sample.value for sample in families["omniroute_queue_depth"].samples}
    age = {
        sample.labels["lane"]: sample.value
        for sample in families["omniroute_queue_oldest_age_seconds"].samples
    }
    assert depth == {"bulk": 1500, "high": 2}
    assert age == {"bulk": 90, "high": 0.5}


@pytest.fixture
async def guarded_server(settings: Settings) -> AsyncIterator[str]:
    url, stop = await serve(
        create_app(settings.model_copy(update={"metrics_token": "scrape-me"}), run_workers=False)
    )
    yield url
    await stop()


async def test_with_a_token_set_a_scrape_needs_it(guarded_server: str) -> None:
    async with httpx.AsyncClient(base_url=guarded_server) as client:
        assert_error(await client.get("/metrics"), 401, "metrics_token_invalid", param="Authorization")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert_error(wrong, 401, "metrics_token_invalid")
        right = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert right.status_code == 200 and "omniroute_queue_depth" in right.text


async def test_metrics_can_be_turned_off(settings: Settings) -> None:
    url, stop = await serve(
        create_app(settings.model_copy(update={"metrics_enabled": False}), run_workers=False)
    )
    try:
        async with httpx.AsyncClient(base_url=url) as client:
            assert (await client.get("/metrics")).status_code == 404
    finally:
        await stop()
