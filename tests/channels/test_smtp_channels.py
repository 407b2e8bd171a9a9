"""Live smtp channels: the config is checked for shape, the relay host passes the
outbound-target policy, the password is encrypted at rest and never echoed."""

from typing import Any

import pytest
from sqlalchemy import text

from omniroute.core.db import Database
from tests.conftest import Tenant, assert_error

CONFIG = {
    "host": "smtp.example.com",
    "port": 587,
    "security": "starttls",
    "username": "mailer",
    "password": "relay-password-7731",
    "from_address": "notifications@shop.example.com",
    "from_name": "Ada's Shop",
}


async def create(tenant: Tenant, **config: Any) -> Any:
    return await tenant.live.post(
        "/v1/channels",
        json={"type": "email", "provider": "smtp", "name": "Shop mail", "config": {**CONFIG, **config}},
    )


async def test_an_smtp_channel_takes_its_address_from_from_address(tenant: Tenant, db: Database) -> None:
    response = await create(tenant)
    assert response.status_code == 201, response.text
    channel = response.json()
    assert (channel["provider"], channel["address"]) == ("smtp", "notifications@shop.example.com")
    assert channel["config"]["password"] == "****7731"
    async with db.sessionmaker() as session:
        stored = (
            await session.execute(text("SELECT config FROM channels WHERE id = :id"), {"id": channel["id"]})
        ).scalar_one()
    assert "relay-password-7731" not in str(stored), "the password is encrypted at rest"


@pytest.mark.parametrize(
    ("config", "code", "param"),
    [
        ({"from_address": None}, "parameter_invalid", "config.from_address"),
        ({"from_address": "not-an-address"}, "parameter_invalid", "config.from_address"),
        ({"from_name": "Shop\r\nBcc: x@example.com"}, "parameter_invalid", "config.from_name"),
        ({"security": "ssl"}, "parameter_invalid", "config.security"),
        ({"host": "smtp.example.com/evil"}, "parameter_invalid", "config.host"),
        ({"password": None}, "parameter_missing", "config.password"),
    ],
)
async def test_a_bad_config_is_refused_naming_the_key(
    tenant: Tenant, config: dict[str, Any], code: str, param: str
) -> None:
    assert_error(await create(tenant, **config), 422, code, param=param)


async def test_a_missing_from_address_is_named(tenant: Tenant) -> None:
    response = await tenant.live.post(
        "/v1/channels",
        json={"type": "email", "provider": "smtp", "name": "Mail", "config": {"host": "smtp.example.com"}},
    )
    assert_error(response, 422, "parameter_missing", param="config.from_address")


async def test_username_without_password_is_refused(tenant: Tenant) -> None:
    config = {key: value for key, value in CONFIG.items() if key != "password"}
    response = await tenant.live.post(
        "/v1/channels", json={"type": "email", "provider": "smtp", "name": "Mail", "config": config}
    )
    assert_error(response, 422, "parameter_missing", param="config.password")


async def test_a_relay_on_a_private_address_is_refused(tenant: Tenant, private_targets_refused: None) -> None:
    assert_error(await create(tenant, host="127.0.0.1"), 422, "url_forbidden", param="config.host")
    created = await create(tenant)
    assert created.status_code == 201, created.text
    patched = await tenant.live.patch(
        f"/v1/channels/{created.json()['id']}", json={"config": {"host": "localhost"}}
    )
    assert_error(patched, 422, "url_forbidden", param="config.host")
