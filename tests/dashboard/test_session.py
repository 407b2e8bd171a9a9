"""Signing in to the dashboard: the session cookie, CSRF, modes, and tenant isolation."""

import httpx
from sqlalchemy import update

from omniroute.core.db import Database
from omniroute.core.time import utcnow
from omniroute.workspaces.models import ApiKey
from tests.conftest import CUSTOMER, Tenant, TenantFactory
from tests.dashboard.conftest import Viewer, key_of


async def test_a_page_without_a_session_sends_the_browser_to_sign_in(
    browser_client: httpx.AsyncClient,
) -> None:
    response = await browser_client.get("/dashboard/messages")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/login"
    htmx = await browser_client.get("/dashboard/messages", headers={"HX-Request": "true"})
    assert htmx.headers["hx-redirect"] == "/dashboard/login"


async def test_signing_in_sets_an_encrypted_httponly_samesite_cookie(
    browser_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    viewer = Viewer(browser_client)
    key = key_of(tenant.test)
    response = await viewer.sign_in(key)
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/dashboard" in cookie
    assert "Secure" not in cookie  # plain http on loopback (tests, a local run) only
    value = browser_client.cookies["omniroute_dashboard"]
    assert key not in value and key.split("_")[-1] not in value  # ciphertext only
    assert "test mode" in await viewer.page("/dashboard")


async def test_the_cookie_is_secure_over_https(browser_client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await browser_client.get("/dashboard/login", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    # uvicorn trusts X-Forwarded-Proto from loopback: the request is https, the cookie Secure.
    assert "Secure" in response.headers["set-cookie"]


async def test_a_wrong_key_is_refused_and_signs_nobody_in(browser_client: httpx.AsyncClient) -> None:
    viewer = Viewer(browser_client)
    response = await viewer.sign_in("or_test_not_a_key")
    assert response.status_code == 422
    assert "not valid" in response.text
    assert (await browser_client.get("/dashboard")).status_code == 303


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    viewer: Viewer, tenant: Tenant
) -> None:
    await tenant.inbound()
    [conversation] = (await tenant.test.get("/v1/conversations")).json()["data"]
    path = f"/dashboard/conversations/{conversation['id']}/reply"
    missing = await viewer.client.post(path, data={"text": "Hello"})
    assert missing.status_code == 403 and "out of date" in missing.text
    wrong = await viewer.client.post(path, data={"text": "Hello"}, headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403
    outbound = (await tenant.test.get("/v1/messages", params={"direction": "outbound"})).json()["data"]
    assert outbound == []
    assert (await viewer.client.post("/dashboard/logout")).status_code == 403  # sign-out is a form too


async def test_sign_out_forgets_the_session(viewer: Viewer) -> None:
    response = await viewer.post("/dashboard/logout")
    assert response.status_code == 303
    assert (await viewer.client.get("/dashboard")).status_code == 303


async def test_a_revoked_key_signs_its_sessions_out(viewer: Viewer, tenant: Tenant, db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(ApiKey)
            .where(ApiKey.workspace_id == tenant.workspace_id, ApiKey.mode == "test")
            .values(revoked_at=utcnow())
        )
    assert (await viewer.client.get("/dashboard")).status_code == 303


async def test_signing_in_with_the_other_key_adds_its_mode_and_the_viewer_switches(
    viewer: Viewer, tenant: Tenant
) -> None:
    assert (await tenant.inbound()).status_code == 201
    assert "+234801234" in await viewer.page("/dashboard/messages")
    response = await viewer.sign_in(key_of(tenant.live))
    assert response.status_code == 303
    live = await viewer.page("/dashboard/messages")
    assert "live mode" in live and "+234801234" not in live  # test messages never show in live mode
    assert (await viewer.post("/dashboard/mode", mode="test")).status_code == 303
    assert "+234801234" in await viewer.page("/dashboard/messages")


async def test_another_workspace_sees_none_of_this_ones_data(
    viewer: Viewer, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    await tenant.inbound(CUSTOMER, "Where is my order?")
    [conversation] = (await tenant.test.get("/v1/conversations")).json()["data"]
    sent = (await tenant.send()).json()
    assert sent["id"].startswith("msg_")
    other = Viewer(httpx.AsyncClient(base_url=str(viewer.client.base_url), timeout=10))
    async with other.client:
        await other.sign_in(key_of((await make_tenant()).test))
        for path in (f"/dashboard/conversations/{conversation['id']}", f"/dashboard/messages/{sent['id']}"):
            response = await other.client.get(path)
            assert response.status_code == 404, path
        assert sent["id"] not in await other.page("/dashboard/messages")
        assert "Where is my order?" not in await other.page("/dashboard/conversations")
        reply = await other.post(f"/dashboard/conversations/{conversation['id']}/reply", text="Hi")
        assert reply.status_code == 404
