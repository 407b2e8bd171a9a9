"""The admin API: an admin key lists, creates, revokes and rotates API keys and creates
workspaces; every other key gets 403 and changes nothing."""

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from omniroute.core.db import Database
from omniroute.core.tenancy import Mode
from omniroute.core.time import utcnow
from omniroute.idempotency.models import IdempotencyRecord
from omniroute.workspaces import keys
from omniroute.workspaces import service as workspaces
from omniroute.workspaces.models import ApiKey, Workspace
from tests.conftest import Tenant, assert_error


@pytest.fixture
async def admin(server: str, db: Database, tenant: Tenant) -> AsyncIterator[httpx.AsyncClient]:
    """A client with an admin key of ``tenant``'s workspace."""
    async with db.transaction() as session:
        workspace = await session.get(Workspace, tenant.workspace_id)
        assert workspace is not None
        raw = await workspaces.create_api_key(session, workspace, Mode.LIVE, "ops", admin=True)
    async with httpx.AsyncClient(base_url=server, headers={"Authorization": f"Bearer {raw}"}) as client:
        yield client


def bearer(server: str, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server, headers={"Authorization": f"Bearer {key}"}, timeout=10)


ADMIN_ROUTES = (
    ("GET", "/v1/api-keys", None),
    ("POST", "/v1/api-keys", {"mode": "live"}),
    ("GET", "/v1/api-keys/key_x", None),
    ("POST", "/v1/api-keys/key_x/revoke", None),
    ("POST", "/v1/api-keys/key_x/rotate", None),
    ("GET", "/v1/workspaces", None),
    ("POST", "/v1/workspaces", {"name": "Mine now"}),
)


async def test_keys_without_the_admin_capability_are_refused(tenant: Tenant, db: Database) -> None:
    async with db.transaction() as session:
        before = (
            (await session.scalars(select(ApiKey.id))).all(),
            (await session.scalars(select(Workspace.id))).all(),
        )
    for client in (tenant.test, tenant.live):
        for method, path, body in ADMIN_ROUTES:
            assert_error(await client.request(method, path, json=body), 403, "admin_key_required")
    async with db.transaction() as session:
        after = (
            (await session.scalars(select(ApiKey.id))).all(),
            (await session.scalars(select(Workspace.id))).all(),
        )
    assert after == before


async def test_a_created_key_is_shown_once_and_only_its_hash_is_stored(
    server: str, admin: httpx.AsyncClient, tenant: Tenant, db: Database
) -> None:
    response = await admin.post("/v1/api-keys", json={"mode": "test", "name": "ci"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["key"].startswith("or_test_") and created["key"].startswith(created["prefix"])
    assert created | {"key": None, "id": None, "prefix": None, "created_at": None} == {
        "id": None,
        "object": "api_key",
        "workspace_id": tenant.workspace_id,
        "mode": "test",
        "name": "ci",
        "prefix": None,
        "admin": False,
        "status": "active",
        "expires_at": None,
        "revoked_at": None,
        "last_used_at": None,
        "created_at": None,
        "key": None,
    }
    async with db.transaction() as session:
        row = await session.get(ApiKey, created["id"])
        assert row is not None and row.key_hash == keys.hash_key(created["key"])
    assert "key" not in (await admin.get(f"/v1/api-keys/{created['id']}")).json()
    listed = (await admin.get("/v1/api-keys")).json()["data"]
    assert created["id"] in {k["id"] for k in listed}
    assert not any("key" in k for k in listed)
    async with bearer(server, created["key"]) as new_key:
        assert (await new_key.get("/v1/channels")).status_code == 200


async def test_a_revoked_key_is_401_at_once(server: str, admin: httpx.AsyncClient) -> None:
    created = (await admin.post("/v1/api-keys", json={"mode": "live"})).json()
    response = await admin.post(f"/v1/api-keys/{created['id']}/revoke")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "revoked" and response.json()["revoked_at"] is not None
    async with bearer(server, created["key"]) as revoked:
        assert_error(await revoked.get("/v1/channels"), 401, "invalid_api_key")
    again = await admin.post(f"/v1/api-keys/{created['id']}/revoke")
    assert again.json()["revoked_at"] == response.json()["revoked_at"]
    assert_error(await admin.post(f"/v1/api-keys/{created['id']}/rotate"), 409, "api_key_revoked")


async def test_rotation_without_grace_replaces_the_key_at_once(server: str, admin: httpx.AsyncClient) -> None:
    old = (await admin.post("/v1/api-keys", json={"mode": "live", "name": "backend"})).json()
    response = await admin.post(f"/v1/api-keys/{old['id']}/rotate")
    assert response.status_code == 201, response.text
    new = response.json()
    assert new["id"] != old["id"] and new["key"] != old["key"]
    assert (new["mode"], new["name"], new["workspace_id"]) == ("live", "backend", old["workspace_id"])
    async with bearer(server, old["key"]) as old_client, bearer(server, new["key"]) as new_client:
        assert_error(await old_client.get("/v1/channels"), 401, "invalid_api_key")
        assert (await new_client.get("/v1/channels")).status_code == 200
    assert (await admin.get(f"/v1/api-keys/{old['id']}")).json()["status"] == "revoked"


async def test_rotation_with_grace_keeps_the_old_key_working_until_it_expires(
    server: str, admin: httpx.AsyncClient, db: Database
) -> None:
    old = (await admin.post("/v1/api-keys", json={"mode": "live"})).json()
    new = (await admin.post(f"/v1/api-keys/{old['id']}/rotate", json={"grace_period_seconds": 3600})).json()
    expiring = (await admin.get(f"/v1/api-keys/{old['id']}")).json()
    assert expiring["status"] == "expiring" and expiring["expires_at"] is not None
    async with bearer(server, old["key"]) as old_client, bearer(server, new["key"]) as new_client:
        assert (await old_client.get("/v1/channels")).status_code == 200
        assert (await new_client.get("/v1/channels")).status_code == 200
        async with db.transaction() as session:  # the hour passes
            await session.execute(
                update(ApiKey)
                .where(ApiKey.id == old["id"])
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        assert_error(await old_client.get("/v1/channels"), 401, "invalid_api_key")
        assert (await new_client.get("/v1/channels")).status_code == 200
    assert (await admin.get(f"/v1/api-keys/{old['id']}")).json()["status"] == "expired"


async def test_rotating_an_admin_key_keeps_the_capability(server: str, admin: httpx.AsyncClient) -> None:
    me = (await admin.post("/v1/api-keys", json={"mode": "live", "admin": True})).json()
    rotated = (await admin.post(f"/v1/api-keys/{me['id']}/rotate")).json()
    assert rotated["admin"] is True
    async with bearer(server, rotated["key"]) as new_admin:
        assert (await new_admin.get("/v1/workspaces")).status_code == 200


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"mode": "test", "admin": True}, "admin"),
        ({"mode": "staging"}, "mode"),
        ({"mode": "live", "workspace_id": "ws_nope"}, "workspace_id"),
        ({"mode": "live", "scopes": ["all"]}, "scopes"),
    ],
)
async def test_bad_key_requests_name_the_field(
    admin: httpx.AsyncClient, body: dict[str, object], param: str
) -> None:
    response = await admin.post("/v1/api-keys", json=body)
    assert response.status_code in (404, 422), response.text
    assert response.json()["error"]["param"] == param


async def test_bad_grace_period_is_422(admin: httpx.AsyncClient) -> None:
    key = (await admin.post("/v1/api-keys", json={"mode": "live"})).json()
    for grace in (-1, 8 * 24 * 3600, "soon"):
        response = await admin.post(f"/v1/api-keys/{key['id']}/rotate", json={"grace_period_seconds": grace})
        assert_error(response, 422, response.json()["error"]["code"], param="grace_period_seconds")
    assert (await admin.get(f"/v1/api-keys/{key['id']}")).json()["status"] == "active"


async def test_unknown_key_is_404(admin: httpx.AsyncClient) -> None:
    for method, path in (("GET", "/v1/api-keys/key_nope"), ("POST", "/v1/api-keys/key_nope/revoke")):
        assert_error(await admin.request(method, path), 404, "resource_not_found")


async def test_an_admin_creates_a_workspace_and_its_first_key(server: str, admin: httpx.AsyncClient) -> None:
    response = await admin.post("/v1/workspaces", json={"name": "Acme Ltd"})
    assert response.status_code == 201, response.text
    workspace = response.json()
    assert workspace["object"] == "workspace" and workspace["name"] == "Acme Ltd"
    assert workspace["id"] in {
        w["id"] for w in (await admin.get("/v1/workspaces", params={"limit": 200})).json()["data"]
    }
    key = (await admin.post("/v1/api-keys", json={"mode": "test", "workspace_id": workspace["id"]})).json()
    assert key["workspace_id"] == workspace["id"]
    listed = (await admin.get("/v1/api-keys", params={"workspace_id": workspace["id"]})).json()["data"]
    assert [k["id"] for k in listed] == [key["id"]]
    async with bearer(server, key["key"]) as acme:
        assert (await acme.get("/v1/workspace")).json()["name"] == "Acme Ltd"
        channels = (await acme.get("/v1/channels")).json()["data"]
        assert {c["type"] for c in channels} == {"whatsapp", "sms", "email", "web"}
    assert_error(
        await admin.post("/v1/workspaces", json={"name": ""}), 422, "parameter_invalid", param="name"
    )


@pytest.mark.parametrize("operation", ["create", "rotate"])
async def test_a_replayed_key_request_issues_no_second_key_and_never_stores_the_key(
    admin: httpx.AsyncClient, db: Database, tenant: Tenant, operation: str
) -> None:
    """Idempotency replays the first response, but only a key's hash is ever stored: the
    replay shows the same key object with ``key: null``."""
    path, body = "/v1/api-keys", {"mode": "live"}
    if operation == "rotate":
        rotated = (await admin.post(path, json=body)).json()["id"]
        path, body = f"/v1/api-keys/{rotated}/rotate", {"grace_period_seconds": 60}

    async def workspace_keys() -> int:
        async with db.transaction() as session:
            return len((await session.scalars(workspaces.api_keys(tenant.workspace_id))).all())

    before = await workspace_keys()
    headers = {"Idempotency-Key": f"issue-{operation}"}
    first = await admin.post(path, json=body, headers=headers)
    replay = await admin.post(path, json=body, headers=headers)
    assert (first.status_code, replay.status_code) == (201, 201), replay.text
    assert replay.headers["idempotent-replayed"] == "true"
    assert first.json()["key"].startswith("or_live_")
    assert replay.json() == first.json() | {"key": None}
    assert await workspace_keys() == before + 1
    async with db.transaction() as session:
        stored = (await session.scalars(select(IdempotencyRecord.response_body))).all()
    assert not any(first.json()["key"] in response for response in stored)
