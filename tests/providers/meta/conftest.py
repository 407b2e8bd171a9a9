"""Fixtures that run omniroute against the Graph API emulator (see ``emulated``)."""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from omniroute.emulator.app import create_emulator_app
from omniroute.emulator.config import EmulatorConfig
from tests.conftest import Tenant, _free_port, serve
from tests.providers.meta.emulated import Emulated, StartEmulated
from tests.providers.meta.live import ACCESS_TOKEN, APP_SECRET, create_meta_channel
from tests.providers.meta.payloads import PHONE_NUMBER_ID, WABA_ID

API_VERSION = "v23.0"

FAST_EMULATOR = {
    "status_interval": 0.1,
    "review_seconds": 0.1,
    "webhook_time_scale": 0.01,
}


@pytest.fixture
async def start_emulated(
    tenant: Tenant, server: str, anonymous: httpx.AsyncClient
) -> AsyncIterator[StartEmulated]:
    """Create a live meta channel pointing at an emulator on a reserved port, then start
    that emulator with our channel's webhook URL. ``channel_config`` overrides the
    channel's config (a wrong token...), other keywords the emulator's config."""
    stoppers: list[Callable[[], Awaitable[None]]] = []
    clients: list[httpx.AsyncClient] = []

    async def start(channel_config: dict[str, Any] | None = None, **emulator: Any) -> Emulated:
        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        channel = await create_meta_channel(
            tenant.live, anonymous, graph_base_url=base_url, api_version=API_VERSION, **(channel_config or {})
        )
        config = EmulatorConfig(
            phone_number_id=PHONE_NUMBER_ID,
            waba_id=WABA_ID,
            app_secret=APP_SECRET,
            access_token=ACCESS_TOKEN,
            webhook_url=f"{server}{channel.hook_url}",
            **{**FAST_EMULATOR, **emulator},
        )
        _, stop = await serve(create_emulator_app(config), port)
        stoppers.append(stop)
        control = httpx.AsyncClient(base_url=base_url, timeout=10)
        graph = httpx.AsyncClient(
            base_url=f"{base_url}/{API_VERSION}",
            headers={"Authorization": f"Bearer {ACCESS_TOKEN}"},
            timeout=10,
        )
        clients.extend((control, graph))
        return Emulated(
            replace(tenant, test=tenant.live, whatsapp=channel.id), channel.id, base_url, control, graph
        )

    yield start
    for client in clients:
        await client.aclose()
    for stop in stoppers:
        await stop()


@pytest.fixture
async def emulated(start_emulated: StartEmulated) -> Emulated:
    return await start_emulated()
