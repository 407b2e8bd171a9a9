"""A real HTTP receiver on loopback for webhook deliveries."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn

from tests.conftest import _free_port, eventually


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str

    @property
    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    url: str = ""
    received: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    """Status codes to answer with, in order; 200 once they run out."""

    async def wait(self, count: int, within: float = 10.0) -> list[Received]:
        async def snapshot() -> list[Received]:
            return list(self.received)

        return list(await eventually(snapshot, lambda got: len(got) >= count, within))

    def of_type(self, type: str) -> list[Received]:
        return [r for r in self.received if r.json["type"] == type]

    def types_at(self, path: str) -> set[str]:
        return {r.json["type"] for r in self.received if r.path == path}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """The ASGI app: record the request, answer with the next status."""
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.received.append(Received(scope["path"], headers, body.decode()))
        status = self.answers.pop(0) if self.answers else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok" if status < 300 else b"nope"})


@asynccontextmanager
async def serving(app: Any, **config: Any) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port until the block ends."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    target = Receiver()
    async with serving(target, lifespan="off") as base:
        target.url = f"{base}/hooks"
        yield target
