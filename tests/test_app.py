"""The application as a whole: health check and the served API description."""

import re

import httpx
import pytest


async def test_health_check_answers_200(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


async def test_openapi_describes_the_contract_paths(anonymous: httpx.AsyncClient) -> None:
    spec = (await anonymous.get("/openapi.json")).json()
    for path in (
        "/v1/channels",
        "/v1/channels/{channel_id}",
        "/v1/channels/{channel_id}/window",
        "/v1/channels/{channel_id}/templates",
        "/v1/templates/lint",
        "/v1/templates/{template_id}",
        "/v1/messages",
        "/v1/messages/{message_id}",
        "/v1/conversations",
        "/v1/conversations/{conversation_id}",
        "/v1/sandbox/inbound",
        "/v1/sandbox/clock",
        "/v1/sandbox/clock/advance",
    ):
        assert path in spec["paths"], path


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_api_docs_pages_load_every_asset_from_omniroute_itself(
    anonymous: httpx.AsyncClient, page: str
) -> None:
    """The docs work offline and behind firewalls: no CDN, no web fonts."""
    response = await anonymous.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert not re.search(r"(https?:)?//\w", html), html
    assets = re.findall(r'(?:src|href|spec-url)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)
    assert any(asset.endswith(".js") for asset in assets), html
    for asset in assets:
        assert asset.startswith("/"), asset
        served = await anonymous.get(asset)
        assert served.status_code == 200, asset
        expected = {".js": "javascript", ".css": "text/css", ".png": "image/png", ".json": "application/json"}
        [kind] = [kind for suffix, kind in expected.items() if asset.endswith(suffix)]
        assert kind in served.headers["content-type"], (asset, served.headers["content-type"])
