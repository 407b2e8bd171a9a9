"""Live twilio channels pointed at the Twilio emulation (``emulation``) on loopback,
with the server's public base URL set so status callbacks come back to it."""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest

from omniroute.config import Settings
from tests.conftest import Tenant, serve
from tests.providers.twilio.emulation import ACCOUNT_SID, AUTH_TOKEN, TwilioEmulation

SENDER = "+15017122661"


@dataclass
class TwilioChannel:
    id: str
    emulation: TwilioEmulation
    tenant: Tenant
    """The workspace with its live client as ``test``."""
    hook_url: str


StartTwilio = Callable[..., Awaitable[TwilioChannel]]


@pytest.fixture
def public_base_url(settings: Settings, server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(settings, "public_base_url", server)
    return server


@pytest.fixture
async def start_twilio(tenant: Tenant, public_base_url: str) -> AsyncIterator[StartTwilio]:
    stoppers: list[Callable[[], Awaitable[None]]] = []

    async def start(**config: Any) -> TwilioChannel:
        emulation = TwilioEmulation()
        url, stop = await serve(emulation.app())
        stoppers.append(stop)
        response = await tenant.live.post(
            "/v1/channels",
            json={
                "type": "sms",
                "provider": "twilio",
                "name": "Twilio SMS",
                "config": {
                    "account_sid": ACCOUNT_SID,
                    "auth_token": AUTH_TOKEN,
                    "from": SENDER,
                    "api_base_url": url,
                    **config,
                },
            },
        )
        assert response.status_code == 201, response.text
        channel_id = response.json()["id"]
        return TwilioChannel(
            channel_id,
            emulation,
            replace(tenant, test=tenant.live),
            f"{public_base_url}/hooks/twilio/{channel_id}",
        )

    yield start
    for stop in stoppers:
        await stop()


@pytest.fixture
async def twilio(start_twilio: StartTwilio) -> TwilioChannel:
    return await start_twilio()
