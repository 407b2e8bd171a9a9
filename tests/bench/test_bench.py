"""``omniroute bench`` at a small N on the suite's kind of database: it runs end to end
and reports every key, and nothing is sent twice or lost, also when a worker is killed
mid-dispatch. Its figures are never asserted: speed is for the benchmark itself."""

import json
import subprocess
import sys

import pytest
from sqlalchemy.engine import make_url

from omniroute.config import Settings

KEYS = [
    "database",
    "messages",
    "workers",
    "accept_rps",
    "accept_p50_ms",
    "accept_p99_ms",
    "accept_p99_ms_at_500",
    "dispatch_mps",
    "ingest_sps",
    "e2e_p50_ms",
    "e2e_p99_ms",
    "priority_p99_ms",
    "cpu_ms_per_msg",
    "peak_rss_mb",
    "baseline_mps",
    "duplicates",
    "lost",
]
MEASURED_ALWAYS = ["accept_rps", "accept_p99_ms_at_500", "dispatch_mps", "ingest_sps", "e2e_p99_ms"]


def emulator_is_unlimited() -> bool:
    help_text = subprocess.run(
        [sys.executable, "-m", "omniroute", "emulator", "--help"], capture_output=True, text=True, check=True
    ).stdout
    return "--unlimited" in help_text


def bench(settings: Settings, *arguments: str) -> dict[str, object]:
    database = make_url(settings.database_url)
    on_postgres = ["--database", settings.database_url] if database.get_backend_name() == "postgresql" else []
    finished = subprocess.run(
        [sys.executable, "-m", "omniroute", "bench", "--messages", "100", "--json", *on_postgres, *arguments],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    result = json.loads(finished.stdout)
    assert isinstance(result, dict)
    return result


@pytest.mark.parametrize(
    "provider",
    [
        "sink",
        pytest.param(
            "emulator",
            marks=pytest.mark.skipif(
                not emulator_is_unlimited(), reason="the emulator has no --unlimited yet"
            ),
        ),
    ],
)
def test_a_small_run_reports_every_key_and_delivers_each_message_once(
    settings: Settings, provider: str
) -> None:
    result = bench(settings, "--provider", provider)

    assert list(result) == KEYS
    assert result["database"] == make_url(settings.database_url).get_backend_name()
    assert (result["messages"], result["workers"]) == (100, 2)
    assert all(result[key] is not None for key in MEASURED_ALWAYS), result
    assert (result["duplicates"], result["lost"]) == (0, 0), result


def test_a_worker_killed_mid_dispatch_loses_nothing_and_sends_nothing_twice(settings: Settings) -> None:
    result = bench(settings, "--provider", "sink", "--kill-one-worker")

    assert (result["duplicates"], result["lost"]) == (0, 0), result
