"""Helpers for the one-time code tests: send a code, check it, wait for its attempts."""

from typing import Any

import httpx

from tests.conftest import Tenant, eventually

NOT_REACHABLE = "+2348012340001"
"""The sandbox's undeliverable recipient on every channel (WhatsApp 131026, SMS UNDELIV)."""
REFUSED_EMAIL = "ada0001@example.com"
"""The sandbox's email refusal (550, ``email_rejected``)."""
PHONE = "+2348012345678"


async def send_code(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/v1/verifications", json={"to": PHONE, "channels": ["sms"], **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def check(client: httpx.AsyncClient, verification_id: str, code: str) -> httpx.Response:
    return await client.post(f"/v1/verifications/{verification_id}/check", json={"code": code})


async def fetch(client: httpx.AsyncClient, verification_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/verifications/{verification_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def settled_attempts(
    client: httpx.AsyncClient, verification_id: str, statuses: list[str], within: float = 15.0
) -> dict[str, Any]:
    """The verification once its attempts have exactly these statuses, in order."""
    return dict(
        await eventually(
            lambda: fetch(client, verification_id),
            lambda v: [a["status"] for a in v["attempts"]] == statuses,
            within,
        )
    )


async def authentication_template(tenant: Tenant, locale: str = "en") -> dict[str, Any]:
    """The WhatsApp channel's authentication template, created by omniroute and approved."""
    created = await tenant.test.post(
        "/v1/verifications/templates/whatsapp", json={"channel_id": tenant.whatsapp, "locale": locale}
    )
    assert created.status_code == 201, created.text

    async def fetch_template() -> dict[str, Any]:
        return dict((await tenant.test.get(f"/v1/templates/{created.json()['id']}")).json())

    return dict(await eventually(fetch_template, lambda t: t["status"] == "APPROVED"))
