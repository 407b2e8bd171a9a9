"""Bearer-key authentication."""

from datetime import UTC, datetime

import httpx
from sqlalchemy import update

from omniroute.core.db import Database
from omniroute.core.tenancy import Mode
from omniroute.workspaces import service as workspaces
from omniroute.workspaces.keys import generate, hash_key, mode_of
from omniroute.workspaces.models import ApiKey
from tests.conftest import Tenant, assert_error


async def test_missing_key_is_authentication_required(anonymous: httpx.AsyncClient) -> None:
    for method, path in (("GET", "/v1/channels"), ("POST", "/v1/messages"), ("GET", "/v1/sandbox/clock")):
        response = await anonymous.request(method, path)
        assert_error(response, 401, "authentication_required", error_type="authentication_error")


async def test_unknown_key_is_invalid(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/v1/channels", headers={"Authorization": f"Bearer {generate(Mode.TEST)}"})
    assert_error(response, 401, "invalid_api_key", error_type="authentication_error")


async def test_non_bearer_scheme_is_authentication_required(anonymous: httpx.AsyncClient) -> None:
    for header in ("Basic dXNlcjpwYXNz", "Bearer", "or_test_abc"):
        response = await anonymous.get("/v1/channels", headers={"Authorization": header})
        assert_error(response, 401, "authentication_required")


async def test_unauthenticated_send_does_nothing(anonymous: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await anonymous.post(
        "/v1/messages",
        json={
            "channel_id": tenant.whatsapp,
            "to": "+2348012345678",
            "text": {"body": "x"},
            "reference": "anon",
        },
        headers={"Authorization": "Bearer or_test_wrong"},
    )
    assert_error(response, 401, "invalid_api_key")
    assert (await tenant.test.get("/v1/messages", params={"reference": "anon"})).json()["data"] == []


async def test_revoked_key_is_invalid(server: str, db: Database) -> None:
    async with db.transaction() as session:
        workspace = await workspaces.create_workspace(session, "revoked")
        raw = await workspaces.create_api_key(session, workspace, Mode.TEST)
    async with httpx.AsyncClient(base_url=server, headers={"Authorization": f"Bearer {raw}"}) as client:
        assert (await client.get("/v1/channels")).status_code == 200
        async with db.transaction() as session:
            await session.execute(
                update(ApiKey).where(ApiKey.key_hash == hash_key(raw)).values(revoked_at=datetime.now(UTC))
            )
        assert_error(await client.get("/v1/channels"), 401, "invalid_api_key")


async def test_keys_look_like_the_contract_says_and_only_their_hash_is_stored(db: Database) -> None:
    async with db.transaction() as session:
        workspace = await workspaces.create_workspace(session, "keys")
        raw = await workspaces.create_api_key(session, workspace, Mode.LIVE)
        stored = (
            await session.execute(ApiKey.__table__.select().where(ApiKey.workspace_id == workspace.id))
        ).one()
    assert raw.startswith("or_live_")
    assert len(raw) - len("or_live_") >= 32
    assert raw[len("or_live_") :].isalnum()
    assert mode_of(raw) is Mode.LIVE
    assert raw not in [str(value) for value in stored]
    assert stored.key_hash == hash_key(raw)
