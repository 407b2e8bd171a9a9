"""What a benchmark run measured: one JSON object with fixed keys, or a table."""

import json
import math
from dataclasses import asdict, dataclass, fields

from rich.table import Table

MEANINGS = {
    "database": ("", "sqlite or postgresql"),
    "messages": ("", "N: messages pre-queued for the dispatch run"),
    "workers": ("", "omniroute worker processes"),
    "accept_rps": ("req/s", "POST /v1/messages answered 202, at concurrency 64"),
    "accept_p50_ms": ("ms", "median accept latency at concurrency 64"),
    "accept_p99_ms": ("ms", "99th percentile accept latency at concurrency 64"),
    "accept_p99_ms_at_500": ("ms", "99th percentile accept latency at a fixed 500 req/s"),
    "dispatch_mps": ("msg/s", "queued -> accepted by the provider, N pre-queued messages"),
    "ingest_sps": ("status/s", "signed status webhooks until the database shows each status"),
    "e2e_p50_ms": ("ms", "median accept -> sent at half the measured capacity"),
    "e2e_p99_ms": ("ms", "99th percentile accept -> sent at half the measured capacity"),
    "priority_p99_ms": ("ms", "99th percentile accept -> sent of high-lane messages during the bulk run"),
    "cpu_ms_per_msg": ("ms", "CPU time of the omniroute processes per message accepted and dispatched"),
    "peak_rss_mb": ("MB", "largest resident memory of all omniroute processes together"),
    "baseline_mps": ("msg/s", "the same messages straight to the provider by a bare aiohttp loop"),
    "duplicates": ("", "sends the provider received more than once (must be 0)"),
    "lost": ("", "messages accepted but never received by the provider (must be 0)"),
}


@dataclass
class Result:
    database: str
    messages: int
    workers: int
    accept_rps: float | None = None
    accept_p50_ms: float | None = None
    accept_p99_ms: float | None = None
    accept_p99_ms_at_500: float | None = None
    dispatch_mps: float | None = None
    ingest_sps: float | None = None
    e2e_p50_ms: float | None = None
    e2e_p99_ms: float | None = None
    priority_p99_ms: float | None = None
    cpu_ms_per_msg: float | None = None
    peak_rss_mb: float | None = None
    baseline_mps: float | None = None
    duplicates: int | None = None
    lost: int | None = None

    def as_json(self) -> str:
        return json.dumps(
            {
                key: round(value, 1) if isinstance(value, float) else value
                for key, value in asdict(self).items()
            }
        )

    def table(self, title: str) -> Table:
        table = Table("key", "value", "unit", "meaning", title=title, box=None)
        for field in fields(self):
            value = getattr(self, field.name)
            unit, meaning = MEANINGS[field.name]
            shown = "-" if value is None else f"{value:,.1f}" if isinstance(value, float) else str(value)
            table.add_row(field.name, shown, unit, meaning)
        return table


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile (``fraction`` 0.99 for p99); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]
