"""Deliveries live in the database: a delivery waiting for its retry when the process
stops is delivered by the next process started on the same database."""

import asyncio
import tempfile
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx

from omniroute.app import create_app
from omniroute.config import Settings
from omniroute.core.db import Database
from omniroute.core.tenancy import Mode
from omniroute.migrations.runner import upgrade
from omniroute.workspaces import service as workspaces
from tests.conftest import CUSTOMER, FAST_SANDBOX
from tests.webhooks.conftest import Receiver, serving


def running(settings: Settings) -> AbstractAsyncContextManager[str]:
    return serving(create_app(settings), lifespan="on")


async def test_a_pending_retry_survives_a_restart(receiver: Receiver) -> None:
    # Its own database, so no other process's worker can do the work in between.
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='omniroute-restart-')) / 'db.sqlite'}"
    await asyncio.to_thread(upgrade, url)
    settings = Settings(database_url=url, **FAST_SANDBOX)  # type: ignore[arg-type]
    db = Database(url)
    async with db.transaction() as session:
        workspace = await workspaces.create_workspace(session, "restart")
        key = await workspaces.create_api_key(session, workspace, Mode.TEST)
    await db.dispose()
    receiver.answers = [500]
    headers = {"Authorization": f"Bearer {key}"}

    async with running(settings) as base, httpx.AsyncClient(base_url=base, headers=headers) as client:
        created = await client.post(
            "/v1/webhook-endpoints", json={"url": receiver.url, "events": ["conversation.window_opened"]}
        )
        assert created.status_code == 201, created.text
        endpoint = created.json()
        channel = (await client.get("/v1/channels", params={"type": "whatsapp"})).json()["data"][0]["id"]
        opened = await client.post(
            "/v1/sandbox/inbound", json={"channel_id": channel, "from": CUSTOMER, "text": {"body": "hi"}}
        )
        assert opened.status_code == 201, opened.text
        [first] = await receiver.wait(1)
    # Stopped before the first retry was due (it waits a few seconds).
    assert len(receiver.received) == 1

    async with running(settings) as base, httpx.AsyncClient(base_url=base, headers=headers) as client:
        _, retried = await receiver.wait(2, within=20)
        assert retried.headers["webhook-id"] == first.headers["webhook-id"]
        deliveries = (await client.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries")).json()["data"]
        assert [a["status_code"] for a in deliveries[0]["attempts"]] == [500, 200]
        assert deliveries[0]["status"] == "succeeded"
