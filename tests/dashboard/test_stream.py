"""``GET /dashboard/stream``: the watched parts of the viewer's own workspace and mode, as
Server-Sent Events; another tenant's ids yield nothing."""

import asyncio
import contextlib
import json
from typing import Any

import httpx

from tests.conftest import Tenant, TenantFactory
from tests.dashboard.conftest import Viewer


async def swaps(client: httpx.AsyncClient, watch: list[str], seconds: float) -> list[dict[str, Any]]:
    """The ``swap`` events the stream sends within ``seconds``."""
    found: list[dict[str, Any]] = []

    async def read() -> None:
        async with client.stream("GET", "/dashboard/stream", params={"watch": watch}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            event = ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "swap":
                    found.append(json.loads(line[5:]))

    with contextlib.suppress(TimeoutError):  # the stream runs on: read it for a while
        await asyncio.wait_for(read(), seconds)
    return found


async def test_the_stream_sends_the_viewers_parts_and_nothing_of_another_tenant(
    viewer: Viewer, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    await tenant.inbound()
    mine = (await tenant.send()).json()
    await tenant.wait_for(mine["id"], "read")
    other = await make_tenant()
    await other.inbound()
    theirs = (await other.send()).json()
    [conversation] = (await other.test.get("/v1/conversations")).json()["data"]
    sent = await swaps(
        viewer.client,
        [f"message:{mine['id']}", f"message:{theirs['id']}", f"window:{conversation['id']}"],
        seconds=3,
    )
    assert [part["target"] for part in sent] == [f"status-{mine['id']}"]
    assert 'data-status="read"' in sent[0]["html"]


async def test_the_stream_needs_a_session(browser_client: httpx.AsyncClient) -> None:
    response = await browser_client.get("/dashboard/stream", params={"watch": "message:msg_x"})
    assert response.status_code == 303
