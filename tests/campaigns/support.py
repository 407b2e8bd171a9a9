"""Helpers for campaign tests: numbers, creating a campaign over the API, waiting for it."""

from typing import Any

import httpx

from tests.conftest import Tenant, eventually


def number(index: int, prefix: str = "+2348031") -> str:
    """A Nigerian sandbox number that is sent, delivered and read (ends in 5, never in the
    magic 0001-0003)."""
    return f"{prefix}{index:05d}5"


def recipients(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"to": number(i), "parameters": {"body": ["Ada", f"#{i}"]}} for i in range(start, start + count)]


def body(tenant: Tenant, recipients: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "channel_id": tenant.whatsapp,
        "name": "December promotion",
        "template": {"name": "order_update", "language": "en"},
        "recipients": recipients,
        **extra,
    }


async def create(tenant: Tenant, recipients: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    response = await tenant.test.post("/v1/campaigns", json=body(tenant, recipients, **extra))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def fetch(tenant: Tenant, campaign_id: str) -> dict[str, Any]:
    response = await tenant.test.get(f"/v1/campaigns/{campaign_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def until(tenant: Tenant, campaign_id: str, status: str, within: float = 20.0) -> dict[str, Any]:
    return dict(await eventually(lambda: fetch(tenant, campaign_id), lambda c: c["status"] == status, within))


async def recipients_of(tenant: Tenant, campaign_id: str, status: str | None = None) -> list[dict[str, Any]]:
    """Every recipient row (all pages)."""
    rows: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 200, **({"status": status} if status else {})}
    while True:
        response = await tenant.test.get(f"/v1/campaigns/{campaign_id}/recipients", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        rows += page["data"]
        if not page["has_more"]:
            return rows
        params["starting_after"] = page["next_cursor"]


async def set_throughput(tenant: Tenant, per_second: int) -> None:
    response = await tenant.test.patch(
        f"/v1/channels/{tenant.whatsapp}", json={"throughput_per_second": per_second}
    )
    assert response.status_code == 200, response.text


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())
