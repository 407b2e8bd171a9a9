"""Web channels (`type: web`): the widget's settings, checked; a public key and a VAPID key
pair made at creation, the private key encrypted at rest and never shown."""

import httpx
import pytest
from sqlalchemy import text

from omniroute.core.db import Database
from omniroute.providers.widget.webpush import b64url_decode
from tests.conftest import Tenant, assert_error
from tests.webchat.conftest import SHOP, create_web_channel, sandbox_web_channel


async def test_a_widget_channel_gets_a_public_key_and_a_vapid_key_pair(tenant: Tenant, db: Database) -> None:
    channel = await create_web_channel(
        tenant, origins=["HTTPS://Shop.Example.com:443/", "http://localhost:8080"]
    )
    assert channel["public_key"].startswith("pk_")
    assert len(b64url_decode(channel["vapid_public_key"])) == 65  # an uncompressed P-256 point
    config = channel["config"]
    assert config["allowed_origins"] == ["http://localhost:8080", SHOP]
    assert (config["title"], config["color"]) == ("Chat with us", "#2563eb")
    assert config["vapid_private_key"].startswith("****")
    async with db.sessionmaker() as session:
        stored = await session.scalar(
            text("SELECT config FROM channels WHERE id = :id"), {"id": channel["id"]}
        )
    assert "fernet:" in str(stored) and channel["vapid_public_key"] in str(stored)


async def test_the_settings_are_the_widgets_and_can_change_without_new_keys(tenant: Tenant) -> None:
    channel = await create_web_channel(tenant, title="Ada's shop", greeting="Hello!", color="#112233")
    changed = await tenant.live.patch(
        f"/v1/channels/{channel['id']}",
        json={"config": {"title": "Ada & Co", "allowed_origins": [SHOP, "https://ada.example"]}},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["config"]["title"], body["config"]["greeting"]) == ("Ada & Co", "Hello!")
    assert body["config"]["allowed_origins"] == ["https://ada.example", SHOP]
    assert (body["public_key"], body["vapid_public_key"]) == (
        channel["public_key"],
        channel["vapid_public_key"],
    )


@pytest.mark.parametrize(
    ("config", "param"),
    [
        ({"allowed_origins": ["https://shop.example.com/path"]}, "config.allowed_origins"),
        ({"allowed_origins": ["https://*.example.com"]}, "config.allowed_origins"),
        ({"allowed_origins": ["ftp://shop.example.com"]}, "config.allowed_origins"),
        ({"allowed_origins": "https://shop.example.com"}, "config.allowed_origins"),
        ({"allowed_origins": [SHOP], "color": "blue"}, "config.color"),
        ({"allowed_origins": [SHOP], "title": ""}, "config.title"),
        ({"allowed_origins": [SHOP], "colour": "#000000"}, "config.colour"),
        ({"allowed_origins": [SHOP], "vapid_private_key": "x" * 43}, "config.vapid_private_key"),
    ],
)
async def test_bad_settings_are_refused_naming_the_key(
    tenant: Tenant, config: dict[str, object], param: str
) -> None:
    response = await tenant.live.post(
        "/v1/channels", json={"type": "web", "name": "Chat", "provider": "widget", "config": config}
    )
    assert_error(response, 422, response.json()["error"]["code"], param=param)
    assert (await tenant.live.get("/v1/channels")).json()["data"] == []


async def test_a_widget_channel_needs_an_allowed_origin(tenant: Tenant) -> None:
    response = await tenant.live.post(
        "/v1/channels", json={"type": "web", "name": "Chat", "provider": "widget"}
    )
    assert_error(response, 422, "parameter_missing", param="config.allowed_origins")


async def test_the_generated_keys_cannot_be_replaced(tenant: Tenant) -> None:
    channel = await create_web_channel(tenant)
    response = await tenant.live.patch(
        f"/v1/channels/{channel['id']}", json={"config": {"vapid_public_key": "B" * 87}}
    )
    assert_error(response, 422, "parameter_invalid", param="config.vapid_public_key")


async def test_the_sandbox_web_channel_gets_its_keys_when_its_widget_first_loads(
    tenant: Tenant, page: httpx.AsyncClient
) -> None:
    """A workspace's ready channels are made without touching the secret key (tools that
    create workspaces may have none); the VAPID pair comes with the widget's first use."""
    channel = await sandbox_web_channel(tenant)
    assert channel["public_key"].startswith("pk_") and channel["vapid_public_key"] is None
    config = await page.get(
        "/widget/v1/config", params={"key": channel["public_key"]}, headers={"Origin": SHOP}
    )
    assert config.status_code == 200, config.text
    reloaded = await sandbox_web_channel(tenant)
    assert reloaded["vapid_public_key"] == config.json()["vapid_public_key"]
    assert len(b64url_decode(reloaded["vapid_public_key"])) == 65
    whatsapp = (await tenant.test.get(f"/v1/channels/{tenant.whatsapp}")).json()
    assert whatsapp["public_key"] is None and whatsapp["vapid_public_key"] is None
