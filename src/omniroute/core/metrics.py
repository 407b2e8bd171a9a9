"""Prometheus metrics: what the code counts as it works, and the exposition ``GET /metrics``
serves.

Counters and the provider latency histogram live in each process. With several processes
on one machine (``omniroute serve --processes N``, or worker processes beside the API),
point ``PROMETHEUS_MULTIPROC_DIR`` at one empty directory for all of them before they
start: each writes its figures there and a scrape of any API process sums them all
(``serve --processes N`` sets a fresh one itself when the variable is unset). Queue depth
and the age of the oldest queued message are not counted but read from the database at
scrape time, so every process reports the same truth."""

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from omniroute.providers.errors import ProviderError, ProviderOutcomeUnknown, ProviderTransientError

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

T = TypeVar("T")

ACCEPTED = Counter(
    "omniroute_messages_accepted",
    "Messages accepted by POST /v1/messages (committed, queued), by channel and priority lane.",
    ["channel", "lane"],
)
DISPATCH_OUTCOMES = Counter(
    "omniroute_dispatch_outcomes",
    "Provider calls made by dispatch, by outcome (sent, retry, failed, unknown) and our error code.",
    ["channel", "outcome", "code"],
)
PROVIDER_LATENCY = Histogram(
    "omniroute_provider_send_seconds",
    "How long a provider took to answer a send, whatever the answer.",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0),
)
WEBHOOK_DELIVERIES = Counter(
    "omniroute_webhook_deliveries",
    "Attempts to deliver an event to a webhook endpoint, by outcome (succeeded, failed).",
    ["outcome"],
)


def record_accepted(channel_id: str, lane: str) -> None:
    ACCEPTED.labels(channel=channel_id, lane=lane).inc()


def record_dispatch(channel_id: str, outcome: str, code: str, seconds: float) -> None:
    DISPATCH_OUTCOMES.labels(channel=channel_id, outcome=outcome, code=code).inc()
    PROVIDER_LATENCY.labels(channel=channel_id).observe(seconds)


def record_webhook_delivery(outcome: str) -> None:
    WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()


def dispatch_outcome(error: ProviderError) -> str:
    if isinstance(error, ProviderOutcomeUnknown):
        return "unknown"
    if isinstance(error, ProviderTransientError):
        return "retry"
    return "failed"


@dataclass(frozen=True)
class LaneDepth:
    """Queued outbound messages of one channel in one priority lane."""

    channel_id: str
    lane: str
    queued: int
    oldest_queued_at: datetime | None


class _Snapshot(Collector):
    """Metric families computed before the scrape (collectors cannot await the database)."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


def queue_families(depths: Iterable[LaneDepth], now: datetime) -> list[Metric]:
    depth = GaugeMetricFamily(
        "omniroute_queue_depth", "Queued outbound messages, by channel and lane.", labels=["channel", "lane"]
    )
    age = GaugeMetricFamily(
        "omniroute_queue_oldest_age_seconds",
        "Age of the oldest queued outbound message, by channel and lane.",
        labels=["channel", "lane"],
    )
    for lane in depths:
        depth.add_metric([lane.channel_id, lane.lane], lane.queued)
        oldest = lane.oldest_queued_at
        age.add_metric(
            [lane.channel_id, lane.lane], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
        )
    return [depth, age]


def exposition(depths: Iterable[LaneDepth], now: datetime) -> bytes:
    """The text format: this process's (or, in multiprocess mode, every process's)
    counters, then the queue as the database shows it now."""
    registry: Collector = REGISTRY
    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry) + generate_latest(_Snapshot(queue_families(depths, now)))
