"""Scale-out: several ``omniroute worker`` processes share PostgreSQL with the API
process's own workers, and every message is still handed to the provider exactly once."""

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator

import pytest

from omniroute.config import Settings
from tests.conftest import FAST_SANDBOX, Tenant, eventually

WORKER_PROCESSES = 2
MESSAGES = 40


@pytest.fixture
async def worker_processes(settings: Settings) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("several processes share PostgreSQL; the SQLite default is one process by design")
    env = {
        **os.environ,
        "OMNIROUTE_DATABASE_URL": settings.database_url,
        "OMNIROUTE_LOG_LEVEL": "warning",
        **{f"OMNIROUTE_{key.upper()}": str(value) for key, value in FAST_SANDBOX.items()},
    }
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "omniroute",
            "worker",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for _ in range(WORKER_PROCESSES)
    ]
    yield processes
    for process in processes:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        await asyncio.wait_for(process.wait(), timeout=15)


async def test_every_message_is_sent_once_with_several_worker_processes(
    tenant: Tenant, worker_processes: list[asyncio.subprocess.Process]
) -> None:
    recipients = [f"+23480123{index:05d}" for index in range(10, 10 + MESSAGES)]
    for number in recipients:
        opened = await tenant.test.post(
            "/v1/sandbox/inbound",
            json={"channel_id": tenant.whatsapp, "from": number, "text": {"body": "hi"}},
        )
        assert opened.status_code == 201
    ids = []
    for number in recipients:
        sent = await tenant.test.post(
            "/v1/messages", json={"channel_id": tenant.whatsapp, "to": number, "text": {"body": "Hello"}}
        )
        assert sent.status_code == 202
        ids.append(sent.json()["id"])

    for message_id in ids:
        final = await eventually(
            lambda message_id=message_id: tenant.test.get(f"/v1/messages/{message_id}"),
            lambda response: response.json()["status"] == "read",
            timeout=30,
        )
        message = final.json()
        assert message["attempts"] == 1, message
        assert [h["status"] for h in message["status_history"]].count("sending") == 1
    assert all(process.returncode is None for process in worker_processes), "a worker process died"
