"""omniroute against the Graph API emulator: a live ``meta`` channel whose
``graph_base_url`` is an emulator running under uvicorn on loopback, and whose webhooks
that emulator signs and sends to our ``/hooks/meta/{channel_id}``. Both sides are
driven over HTTP only: our API with the workspace's live key, the emulator's control API
and its Graph API."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import CUSTOMER, Tenant, eventually


@dataclass
class Emulated:
    api: Tenant
    """The workspace through its live key, with the meta channel as its WhatsApp channel:
    ``api.send``, ``api.window``, ``api.wait_for``, ``api.approved_template``... all go
    through the emulator."""
    channel_id: str
    base_url: str
    """Where the emulator listens (the channel's ``graph_base_url``)."""
    control: httpx.AsyncClient
    """The emulator's control API (``/_emulator/...``)."""
    graph: httpx.AsyncClient
    """The emulator's Graph API, with the right token, based at the version prefix."""

    async def customer_writes(self, sender: str = CUSTOMER, text: str = "Hi", **extra: Any) -> dict[str, Any]:
        """A customer writes (``POST /_emulator/inbound``); returns our stored message
        once the emulator's webhook has reached us."""
        response = await self.control.post("/_emulator/inbound", json={"from": sender, "text": text, **extra})
        assert response.status_code == 200, response.text
        return await self.stored(response.json()["id"])

    async def stored(self, wamid: str) -> dict[str, Any]:
        """Our message for the emulator's ``wamid``, once a webhook has told us about it."""

        async def listed() -> list[dict[str, Any]]:
            page = await self.api.test.get(
                "/v1/messages", params={"channel_id": self.channel_id, "limit": 100}
            )
            return [m for m in page.json()["data"] if m["provider_message_id"] == wamid]

        found: list[dict[str, Any]] = await eventually(listed, bool)
        return found[0]

    async def sent(self, **content: Any) -> dict[str, Any]:
        """``POST /v1/messages`` (to CUSTOMER unless ``to`` is given); accepted (202)."""
        response = await self.api.send(**content)
        assert response.status_code == 202, response.text
        return dict(response.json())

    async def recorded(self) -> dict[str, Any]:
        """Everything the emulator saw (``GET /_emulator/messages``)."""
        return dict((await self.control.get("/_emulator/messages")).json())

    async def requests_for(self, message_id: str) -> list[dict[str, Any]]:
        """The send requests the emulator received for our message, each with the
        response or the error it answered."""
        received = (await self.recorded())["received"]
        return [r for r in received if r["request"].get("biz_opaque_callback_data") == message_id]

    async def handed_over(self, message_id: str) -> dict[str, Any]:
        """Our message once the emulator accepted it (it has Meta's id), whatever its status."""
        message: dict[str, Any] = await eventually(
            lambda: self.api.message(message_id), lambda m: m["provider_message_id"]
        )
        return message

    async def accepted_request(self, message_id: str) -> dict[str, Any]:
        """The request body the emulator accepted for our message."""
        message = await self.handed_over(message_id)
        [accepted] = [r for r in await self.requests_for(message_id) if "response" in r]
        assert accepted["response"]["messages"][0]["id"] == message["provider_message_id"]
        return dict(accepted["request"])


StartEmulated = Callable[..., Awaitable[Emulated]]
"""The ``start_emulated`` fixture: ``await start_emulated(channel_config={...}, **emulator_config)``."""
