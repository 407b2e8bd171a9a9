"""Live ``meta`` channels for HTTP tests. Their Graph API is a closed local port: the
channel is stored and its webhook works while Meta is unreachable."""

import hashlib
import hmac
import json
import socket
from dataclasses import dataclass
from typing import Any

import httpx

from tests.providers.meta.payloads import PHONE_NUMBER_ID, WABA_ID

APP_SECRET = "3f1b2c9d8e7a6b5c4d3e2f1a0b9c8d7e"
VERIFY_TOKEN = "verify-me-5821"
ACCESS_TOKEN = "EAAGm0PX4ZCpsBAKZCTESTTOKEN9876"


def closed_port() -> int:
    """A loopback port with nothing listening (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def meta_config(**overrides: Any) -> dict[str, Any]:
    return {
        "phone_number_id": PHONE_NUMBER_ID,
        "waba_id": WABA_ID,
        "access_token": ACCESS_TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
        "graph_base_url": f"http://127.0.0.1:{closed_port()}",
        "api_version": "v23.0",
        **overrides,
    }


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class MetaChannel:
    id: str
    client: httpx.AsyncClient
    """The live API client of the channel's workspace."""
    hooks: httpx.AsyncClient
    """A client without an API key, as Meta calls us."""

    @property
    def hook_url(self) -> str:
        return f"/hooks/meta/{self.id}"

    async def deliver(self, payload: dict[str, Any], *, signature: str | None = "valid") -> httpx.Response:
        """POST a webhook body exactly as Meta would (signed over the raw bytes)."""
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if signature == "valid":
            headers["X-Hub-Signature-256"] = sign(body)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return await self.hooks.post(self.hook_url, content=body, headers=headers)


async def create_meta_channel(
    client: httpx.AsyncClient, hooks: httpx.AsyncClient, **config: Any
) -> MetaChannel:
    response = await client.post(
        "/v1/channels",
        json={
            "type": "whatsapp",
            "name": "Support (Cloud API)",
            "provider": "meta",
            "address": "+15550783881",
            "config": meta_config(**config),
        },
    )
    assert response.status_code == 201, response.text
    return MetaChannel(response.json()["id"], client, hooks)
