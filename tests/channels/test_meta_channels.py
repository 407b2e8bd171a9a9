"""Live ``meta`` channels: stored once their config has the right shape, even while the
Graph API is unreachable; credentials checked on demand; secrets never returned."""

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from omniroute.channels import service
from omniroute.channels.models import Channel, ChannelStatus, ChannelType
from omniroute.config import Settings
from omniroute.core.db import Database
from omniroute.core.tenancy import Mode
from omniroute.core.time import utcnow
from omniroute.providers.base import Provider
from omniroute.providers.errors import ProviderAuthError, ProviderError, ProviderTransientError
from omniroute.providers.registry import ProviderRegistry
from tests.conftest import Tenant, _free_port, assert_error, serve
from tests.providers.meta.live import ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN, create_meta_channel, meta_config

REQUIRED = ("phone_number_id", "waba_id", "access_token", "app_secret", "verify_token")


async def create(client: httpx.AsyncClient, config: dict[str, Any]) -> httpx.Response:
    return await client.post(
        "/v1/channels",
        json={
            "type": "whatsapp",
            "name": "Cloud API",
            "provider": "meta",
            "address": "+15550783881",
            "config": config,
        },
    )


async def test_a_meta_channel_is_stored_while_the_graph_api_is_unreachable(
    tenant: Tenant, anonymous: httpx.AsyncClient
) -> None:
    meta = await create_meta_channel(tenant.live, anonymous)
    channel = (await tenant.live.get(f"/v1/channels/{meta.id}")).json()
    assert (channel["provider"], channel["status"], channel["mode"], channel["address"]) == (
        "meta",
        "active",
        "live",
        "+15550783881",
    )
    assert channel["config"]["phone_number_id"] == "106540352242922"
    assert channel["config"]["api_version"] == "v23.0"
    assert channel["config"]["graph_base_url"].startswith("http://127.0.0.1:")


async def test_secrets_are_masked_everywhere(tenant: Tenant, anonymous: httpx.AsyncClient) -> None:
    meta = await create_meta_channel(tenant.live, anonymous)
    fetched = (await tenant.live.get(f"/v1/channels/{meta.id}")).json()
    listed = (await tenant.live.get("/v1/channels")).json()
    for secret in (ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN):
        assert secret not in str(fetched) and secret not in str(listed)
    assert fetched["config"]["access_token"] == "****" + ACCESS_TOKEN[-4:]
    assert fetched["config"]["app_secret"] == "****" + APP_SECRET[-4:]
    assert fetched["config"]["verify_token"] == "****" + VERIFY_TOKEN[-4:]


@pytest.mark.parametrize("missing", REQUIRED)
async def test_a_missing_config_key_is_named(tenant: Tenant, missing: str) -> None:
    config = meta_config()
    del config[missing]
    assert_error(await create(tenant.live, config), 422, "parameter_missing", param=f"config.{missing}")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("api_version", "23"),
        ("graph_base_url", "ftp://graph.example"),
        ("phone_number_id", "1065/../me"),
        ("access_token", ""),
        ("webhook_secret", "typo"),
    ],
)
async def test_a_malformed_config_key_is_named(tenant: Tenant, key: str, value: str) -> None:
    assert_error(
        await create(tenant.live, meta_config(**{key: value})),
        422,
        "parameter_invalid",
        param=f"config.{key}",
    )


async def test_graph_base_url_and_api_version_are_optional(tenant: Tenant) -> None:
    config = {
        key: value for key, value in meta_config().items() if key not in ("graph_base_url", "api_version")
    }
    response = await create(tenant.live, config)
    assert response.status_code == 201, response.text


async def test_a_config_update_is_validated_and_keeps_omitted_secrets(
    tenant: Tenant, anonymous: httpx.AsyncClient
) -> None:
    meta = await create_meta_channel(tenant.live, anonymous)
    bad = await tenant.live.patch(f"/v1/channels/{meta.id}", json={"config": {"api_version": "latest"}})
    assert_error(bad, 422, "parameter_invalid", param="config.api_version")
    good = await tenant.live.patch(f"/v1/channels/{meta.id}", json={"config": {"api_version": "v24.0"}})
    assert good.status_code == 200, good.text
    assert good.json()["config"]["api_version"] == "v24.0"
    assert good.json()["config"]["app_secret"] == "****" + APP_SECRET[-4:]


async def test_check_reports_an_unreachable_api_without_blaming_the_credentials(
    tenant: Tenant, anonymous: httpx.AsyncClient
) -> None:
    meta = await create_meta_channel(tenant.live, anonymous)
    response = await tenant.live.post(f"/v1/channels/{meta.id}/check")
    assert response.status_code == 200, response.text
    check = response.json()
    assert check["object"] == "channel_check"
    assert check["result"] == "unreachable"
    assert "nothing was sent" in check["message"]
    assert check["channel"]["status"] == "active"
    assert (await tenant.live.get(f"/v1/channels/{meta.id}")).json()["status"] == "active"


async def test_check_in_test_mode_uses_the_sandbox(tenant: Tenant) -> None:
    response = await tenant.test.post(f"/v1/channels/{tenant.whatsapp}/check")
    assert response.status_code == 200, response.text
    assert (response.json()["result"], response.json()["message"]) == ("ok", None)


async def test_check_of_an_unknown_channel_is_not_found(tenant: Tenant) -> None:
    assert_error(await tenant.live.post("/v1/channels/ch_nope/check"), 404, "resource_not_found")


class _Answers(Provider):
    """A provider whose credential check gives a scripted answer (Meta's verdicts cannot
    be produced here without a Graph API)."""

    name = "scripted"

    def __init__(self, answer: ProviderError | None) -> None:
        self.answer = answer

    async def send(self, message: Any) -> Any:
        raise NotImplementedError

    async def check(self) -> None:
        if self.answer is not None:
            raise self.answer


class _Registry(ProviderRegistry):
    def __init__(self, answer: ProviderError | None) -> None:
        self.answer = answer

    def for_channel(self, channel: Channel) -> Provider:
        return _Answers(self.answer)


def _channel(status: ChannelStatus) -> Channel:
    channel = service.new_channel(
        "ws_1", Mode.LIVE, type=ChannelType.WHATSAPP, name="x", provider="meta", address="+1", config={}
    )
    channel.status = status
    channel.created_at = utcnow()
    return channel


async def test_rejected_credentials_mark_the_channel() -> None:
    channel = _channel(ChannelStatus.ACTIVE)
    rejected = ProviderAuthError("Meta error 190 (access token expired or invalid).", provider_code=190)
    check = await service.check(channel, _Registry(rejected), 1.0)
    assert (check.result, check.provider_code) == ("credentials_rejected", 190)
    assert channel.status == ChannelStatus.CREDENTIALS_REJECTED


async def test_working_credentials_clear_the_mark() -> None:
    channel = _channel(ChannelStatus.CREDENTIALS_REJECTED)
    check = await service.check(channel, _Registry(None), 1.0)
    assert check.result == "ok"
    assert channel.status == ChannelStatus.ACTIVE


async def test_a_disabled_channel_stays_disabled_whatever_the_check_finds() -> None:
    channel = _channel(ChannelStatus.DISABLED)
    assert (await service.check(channel, _Registry(None), 1.0)).result == "ok"
    assert channel.status == ChannelStatus.DISABLED


async def test_an_unreachable_provider_leaves_a_rejected_channel_rejected() -> None:
    channel = _channel(ChannelStatus.CREDENTIALS_REJECTED)
    check = await service.check(channel, _Registry(ProviderTransientError("connection refused")), 1.0)
    assert check.result == "unreachable"
    assert channel.status == ChannelStatus.CREDENTIALS_REJECTED


# --- URLs a live key may set: the outbound-target policy --------------------------------

INTERNAL_GRAPH_URLS = [
    "http://169.254.169.254",
    "http://10.0.0.1",
    "https://localhost:8443",
    "http://[::1]:8080",
    "http://[64:ff9b::a9fe:a9fe]",
    "http://[::7f00:1]",
    "http://[2002:a9fe:a9fe::]",
]


@pytest.mark.usefixtures("private_targets_refused")
@pytest.mark.parametrize("url", INTERNAL_GRAPH_URLS)
async def test_a_live_channel_cannot_point_its_graph_api_inward(tenant: Tenant, url: str) -> None:
    before = (await tenant.live.get("/v1/channels")).json()["data"]
    created = await create(tenant.live, meta_config(graph_base_url=url))
    assert_error(created, 422, "url_forbidden", param="config.graph_base_url")
    assert (await tenant.live.get("/v1/channels")).json()["data"] == before


@pytest.mark.usefixtures("private_targets_refused")
async def test_a_live_channel_cannot_be_moved_inward(tenant: Tenant) -> None:
    created = await create(tenant.live, meta_config(graph_base_url="https://93.184.215.14"))
    assert created.status_code == 201, created.text
    channel_id = created.json()["id"]
    moved = await tenant.live.patch(
        f"/v1/channels/{channel_id}", json={"config": {"graph_base_url": "http://[64:ff9b::a9fe:a9fe]"}}
    )
    assert_error(moved, 422, "url_forbidden", param="config.graph_base_url")
    stored = (await tenant.live.get(f"/v1/channels/{channel_id}")).json()
    assert stored["config"]["graph_base_url"] == "https://93.184.215.14"


async def test_check_is_no_internal_port_probe(
    tenant: Tenant, anonymous: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A channel whose Graph API URL came to point inward (stored while allowed, or its
    host re-pointed) is refused where the connection would be made: an open and a closed
    port answer alike, and nothing reaches either."""
    port = _free_port()
    open_port = await create_meta_channel(tenant.live, anonymous, graph_base_url=f"http://127.0.0.1:{port}")
    closed_port = await create_meta_channel(tenant.live, anonymous)
    listener, reached = FastAPI(), []

    @listener.get("/{path:path}")
    async def answer(path: str) -> dict[str, Any]:
        reached.append(path)
        return {"id": "1"}

    _, stop = await serve(listener, port)
    monkeypatch.setattr(settings, "allow_private_targets", False)
    try:
        checks = [
            (await tenant.live.post(f"/v1/channels/{channel.id}/check")).json()
            for channel in (open_port, closed_port)
        ]
    finally:
        await stop()
    assert [(c["result"], c["message"], c["provider_code"]) for c in checks] == [
        ("error", checks[0]["message"], None)
    ] * 2
    assert "config.graph_base_url refused" in checks[0]["message"]
    assert reached == []


async def test_test_mode_does_not_apply_the_policy(tenant: Tenant, settings: Settings) -> None:
    """A test key never reaches a network (its channels use the sandbox)."""
    assert settings.allow_private_targets  # the harness; the policy is off only for test keys below
    response = await tenant.test.post(
        "/v1/channels",
        json={
            "type": "whatsapp",
            "name": "Local",
            "provider": "meta",
            "address": "+15550783881",
            "config": meta_config(graph_base_url="http://169.254.169.254"),
        },
    )
    assert response.status_code == 201, response.text


# --- secrets: masked in responses, encrypted at rest -------------------------------------


async def test_a_short_secret_shows_nothing_of_itself(tenant: Tenant) -> None:
    response = await create(
        tenant.live, meta_config(access_token="abc", app_secret="a" * 11, verify_token="v" * 12)
    )
    assert response.status_code == 201, response.text
    config = response.json()["config"]
    assert (config["access_token"], config["app_secret"], config["verify_token"]) == (
        "****",
        "****",
        "****vvvv",
    )


async def test_secrets_are_encrypted_in_the_database(
    tenant: Tenant, anonymous: httpx.AsyncClient, db: Database
) -> None:
    meta = await create_meta_channel(tenant.live, anonymous)
    async with db.sessionmaker() as session:
        raw = (
            await session.execute(text("SELECT config FROM channels WHERE id = :id"), {"id": meta.id})
        ).scalar_one()
        channel = await session.get(Channel, meta.id)
    stored = raw if isinstance(raw, dict) else json.loads(raw)
    for key, secret in (
        ("access_token", ACCESS_TOKEN),
        ("app_secret", APP_SECRET),
        ("verify_token", VERIFY_TOKEN),
    ):
        assert stored[key].startswith("fernet:")
        assert secret not in json.dumps(stored)
    assert stored["phone_number_id"] == meta_config()["phone_number_id"]  # the rest stays readable
    assert channel is not None
    assert (channel.config["access_token"], channel.config["app_secret"]) == (ACCESS_TOKEN, APP_SECRET)
