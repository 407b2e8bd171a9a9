"""The emulator under test runs under uvicorn on a loopback port and is driven over real
HTTP; its webhooks go to a real local receiver that checks every signature."""

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from tests.conftest import eventually, serve

from omniroute.emulator.app import create_emulator_app
from omniroute.emulator.config import EmulatorConfig

PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
APP_SECRET = "emulator-app-secret"
ACCESS_TOKEN = "EAAGtestaccesstoken"
VERSION = "v23.0"
CUSTOMER = "+2348012345678"
CUSTOMER_WA_ID = "2348012345678"


@dataclass
class Receiver:
    """A business's webhook endpoint: keeps what arrives, refuses bad signatures with 401."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    fail_next: int = 0
    """Answer this many further requests with 500 (to exercise the emulator's retries)."""
    answering: asyncio.Event = field(default_factory=asyncio.Event)
    """Cleared, the receiver holds every webhook unanswered until it is set again."""

    def __post_init__(self) -> None:
        self.answering.set()

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/webhook")
        async def webhook(request: Request) -> Response:
            await self.answering.wait()
            raw = await request.body()
            expected = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(request.headers.get("x-hub-signature-256", ""), expected):
                self.bad_signatures += 1
                return Response(status_code=401)
            if self.fail_next:
                self.fail_next -= 1
                return Response(status_code=500)
            self.received.append(json.loads(raw))
            return Response(status_code=200)

        return app

    def values(self, change_field: str) -> list[dict[str, Any]]:
        return [
            change["value"]
            for body in self.received
            for entry in body["entry"]
            for change in entry["changes"]
            if change["field"] == change_field
        ]

    def statuses_per_body(self) -> list[list[dict[str, Any]]]:
        """The statuses each webhook body carried (bodies without any left out)."""
        per_body = []
        for body in self.received:
            statuses = [
                status
                for entry in body["entry"]
                for change in entry["changes"]
                for status in change["value"].get("statuses", [])
            ]
            if statuses:
                per_body.append(statuses)
        return per_body

    def statuses(self, message_id: str) -> list[dict[str, Any]]:
        return [s for v in self.values("messages") for s in v.get("statuses", []) if s["id"] == message_id]

    def inbound(self, wa_id: str) -> list[dict[str, Any]]:
        return [v for v in self.values("messages") for m in v.get("messages", []) if m["from"] == wa_id]

    async def wait_for_statuses(self, message_id: str, wanted: list[str]) -> list[dict[str, Any]]:
        async def probe() -> list[dict[str, Any]]:
            return self.statuses(message_id)

        found: list[dict[str, Any]] = await eventually(probe, lambda s: [x["status"] for x in s] == wanted)
        return found

    async def wait_for_count(self, change_field: str, count: int) -> list[dict[str, Any]]:
        async def probe() -> list[dict[str, Any]]:
            return self.values(change_field)

        found: list[dict[str, Any]] = await eventually(probe, lambda values: len(values) >= count)
        return found

    async def wait_for(
        self, change_field: str, predicate: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any]:
        async def probe() -> list[dict[str, Any]]:
            return [v for v in self.values(change_field) if predicate(v)]

        found: list[dict[str, Any]] = await eventually(probe, bool)
        return found[0]


@dataclass
class Emulator:
    url: str
    graph: httpx.AsyncClient
    """Authenticated with the right bearer token, based at the Graph version prefix."""
    control: httpx.AsyncClient
    receiver: Receiver

    async def send(self, to: str = CUSTOMER, **body: Any) -> httpx.Response:
        payload: dict[str, Any] = {"messaging_product": "whatsapp", "to": to, **body}
        if "type" not in body:
            payload.update(type="text", text={"body": "Hello from the business"})
        return await self.graph.post(f"/{PHONE_NUMBER_ID}/messages", json=payload)

    async def stats(self) -> dict[str, int]:
        response = await self.control.get("/_emulator/stats")
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def customer_writes(self, sender: str = CUSTOMER, text: str = "Hi", **extra: Any) -> dict[str, Any]:
        response = await self.control.post("/_emulator/inbound", json={"from": sender, "text": text, **extra})
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def create_template(
        self, name: str, components: list[dict[str, Any]], category: str = "UTILITY", language: str = "en_US"
    ) -> httpx.Response:
        return await self.graph.post(
            f"/{WABA_ID}/message_templates",
            json={"name": name, "language": language, "category": category, "components": components},
        )

    async def approved_template(self, name: str, components: list[dict[str, Any]]) -> str:
        response = await self.create_template(name, components)
        assert response.status_code == 200, response.text
        template_id = str(response.json()["id"])
        await self.receiver.wait_for(
            "message_template_status_update",
            lambda v: str(v["message_template_id"]) == template_id and v["event"] == "APPROVED",
        )
        return template_id


def graph_error(response: httpx.Response, http_status: int, code: int) -> dict[str, Any]:
    """The response is Meta's error shape with this status and code; returns the error."""
    assert response.status_code == http_status, response.text
    body = response.json()
    assert list(body) == ["error"], body
    error = body["error"]
    assert error["code"] == code, error
    assert error["type"] == "OAuthException", error
    assert error["message"], error
    assert error["fbtrace_id"], error
    return dict(error)


def details(response: httpx.Response, code: int = 100) -> str:
    """Error 100 (or ``code``) with ``error_data.details``; returns the details."""
    error = graph_error(response, 400, code)
    assert error["error_data"]["messaging_product"] == "whatsapp", error
    return str(error["error_data"]["details"])


FAST = EmulatorConfig(
    phone_number_id=PHONE_NUMBER_ID,
    waba_id=WABA_ID,
    app_secret=APP_SECRET,
    access_token=ACCESS_TOKEN,
    webhook_url="",
    status_interval=0.05,
    review_seconds=0.1,
    webhook_time_scale=0.01,
)


@pytest.fixture
async def start_emulator() -> AsyncIterator[Callable[..., Awaitable[Emulator]]]:
    """Start an emulator (and its webhook receiver) with optional config overrides."""
    stoppers: list[Callable[[], Awaitable[None]]] = []
    clients: list[httpx.AsyncClient] = []

    async def start(**overrides: Any) -> Emulator:
        receiver = Receiver()
        receiver_url, stop_receiver = await serve(receiver.app())
        receiver.url = f"{receiver_url}/webhook"
        config = replace(FAST, webhook_url=receiver.url, **overrides)
        url, stop_emulator = await serve(create_emulator_app(config))
        stoppers.extend([stop_emulator, stop_receiver])
        graph = httpx.AsyncClient(
            base_url=f"{url}/{VERSION}", headers={"Authorization": f"Bearer {ACCESS_TOKEN}"}
        )
        control = httpx.AsyncClient(base_url=url)
        clients.extend([graph, control])
        return Emulator(url, graph, control, receiver)

    yield start
    for client in clients:
        await client.aclose()
    await asyncio.gather(*(stop() for stop in stoppers))


@pytest.fixture
async def emulator(start_emulator: Callable[..., Awaitable[Emulator]]) -> Emulator:
    return await start_emulator()
