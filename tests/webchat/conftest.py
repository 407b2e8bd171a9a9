"""Web chat test helpers: web channels, and visitors talking to the public visitor API
from a page's origin, with their live stream read as Server-Sent Events."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.conftest import Tenant

SHOP = "https://shop.example.com"


async def create_web_channel(
    tenant: Tenant, *, origins: list[str] | None = None, **config: Any
) -> dict[str, Any]:
    """A live ``widget`` channel answering ``origins`` (the shop by default)."""
    response = await tenant.live.post(
        "/v1/channels",
        json={
            "type": "web",
            "name": "Shop chat",
            "provider": "widget",
            "config": {"allowed_origins": origins or [SHOP], **config},
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def reply(
    client: httpx.AsyncClient, channel: dict[str, Any], to: str | None, **content: Any
) -> dict[str, Any]:
    """The business answers a visitor: ``POST /v1/messages`` (a text unless told otherwise)."""
    body = {"channel_id": channel["id"], "to": to, **(content or {"text": {"body": "Thanks for writing!"}})}
    response = await client.post("/v1/messages", json=body)
    assert response.status_code == 202, response.text
    return dict(response.json())


async def sandbox_web_channel(tenant: Tenant) -> dict[str, Any]:
    [channel] = (await tenant.test.get("/v1/channels", params={"type": "web"})).json()["data"]
    return dict(channel)


@dataclass
class Stream:
    """A live stream being read in the background: its events in order."""

    events: "asyncio.Queue[tuple[str, dict[str, Any], str | None]]" = field(default_factory=asyncio.Queue)
    task: "asyncio.Task[None] | None" = None
    status: int | None = None

    async def next(self, event: str = "message", within: float = 10.0) -> dict[str, Any]:
        async with asyncio.timeout(within):
            while True:
                name, data, _ = await self.events.get()
                if name == event:
                    return data

    async def message_from(self, author: str, within: float = 10.0) -> dict[str, Any]:
        async with asyncio.timeout(within):
            while True:
                data = await self.next(within=within)
                if data["author"] == author:
                    return data


@dataclass
class Visitor:
    client: httpx.AsyncClient
    key: str
    origin: str | None = SHOP
    id: str | None = None
    token: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Origin": self.origin} if self.origin else {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    async def start(self, **visitor: Any) -> "Visitor":
        body: dict[str, Any] = {"public_key": self.key}
        if visitor:
            body["visitor"] = visitor
        response = await self.client.post(
            "/widget/v1/sessions", params={"key": self.key}, json=body, headers=self.headers
        )
        assert response.status_code == 201, response.text
        self.id, self.token = response.json()["visitor_id"], response.json()["token"]
        return self

    async def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        params = {"key": self.key, **options.pop("params", {})}
        headers = {**self.headers, **options.pop("headers", {})}
        return await self.client.request(
            method, f"/widget/v1{path}", params=params, headers=headers, **options
        )

    async def say(self, text: str) -> dict[str, Any]:
        response = await self.request("POST", "/messages", json={"text": text})
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def messages(self, **params: Any) -> list[dict[str, Any]]:
        response = await self.request("GET", "/messages", params=params)
        assert response.status_code == 200, response.text
        return list(response.json()["data"])

    async def marker(self, type: str, message_id: str | None = None) -> httpx.Response:
        body: dict[str, Any] = {"type": type}
        if message_id:
            body["message_id"] = message_id
        return await self.request("POST", "/markers", json=body)

    async def ticket(self) -> str:
        response = await self.request("POST", "/stream-tickets")
        assert response.status_code == 201, response.text
        return str(response.json()["ticket"])

    async def open_stream(
        self, opened_streams: list[Stream], last_event_id: str | None = None, *, base_url: str | None = None
    ) -> Stream:
        """Open the live stream (by ticket, as the widget does) and read it in the background;
        returns once the server registered it (its ``retry`` line arrived)."""
        stream = Stream()
        opened_streams.append(stream)
        params = {"key": self.key, "ticket": await self.ticket()}
        headers = {"Origin": self.origin} if self.origin else {}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        opened = asyncio.get_running_loop().create_future()

        async def read() -> None:
            url = f"{base_url or self.client.base_url}/widget/v1/stream"
            async with (
                httpx.AsyncClient(timeout=None) as client,
                client.stream("GET", url, params=params, headers=headers) as response,
            ):
                stream.status = response.status_code
                name, data, event_id = "message", "", None
                async for line in response.aiter_lines():
                    if line.startswith("retry:") and not opened.done():
                        opened.set_result(None)
                    elif line.startswith("event:"):
                        name = line[6:].strip()
                    elif line.startswith("data:"):
                        data += line[5:].strip()
                    elif line.startswith("id:"):
                        event_id = line[3:].strip()
                    elif line == "" and data:
                        await stream.events.put((name, json.loads(data), event_id))
                        name, data, event_id = "message", "", None
                if not opened.done():
                    opened.set_result(None)

        stream.task = asyncio.create_task(read())
        await asyncio.wait_for(asyncio.shield(opened), 10)
        return stream


@pytest.fixture
async def streams() -> AsyncIterator[list[Stream]]:
    """Streams a test opened are closed after it (a stream left open would hold the server)."""
    opened: list[Stream] = []
    yield opened
    for stream in opened:
        if stream.task is not None:
            stream.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await stream.task


@pytest.fixture
async def page(server: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client without an API key, as a visitor's browser calls the visitor API."""
    async with httpx.AsyncClient(base_url=server, timeout=10) as client:
        yield client
