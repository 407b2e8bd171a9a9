"""Dashboard test helpers: a browser-like client (cookies kept, no API key) signed in to
the dashboard with a tenant's key, and the CSRF token its pages carry."""

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import Tenant

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def key_of(client: httpx.AsyncClient) -> str:
    """The API key an API client of the harness sends."""
    return client.headers["Authorization"].removeprefix("Bearer ")


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


@dataclass
class Viewer:
    client: httpx.AsyncClient
    csrf: str = ""

    async def sign_in(self, key: str) -> httpx.Response:
        page = await self.client.get("/dashboard/login")
        assert page.status_code == 200, page.text
        self.csrf = csrf_of(page.text)
        return await self.client.post("/dashboard/login", data={"api_key": key, "csrf_token": self.csrf})

    async def page(self, path: str, **params: str) -> str:
        response = await self.client.get(path, params=params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/html")
        return response.text

    async def post(self, path: str, **data: str) -> httpx.Response:
        return await self.client.post(path, data={"csrf_token": self.csrf, **data})


@pytest.fixture
async def browser_client(server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server, timeout=10) as client:
        yield client


@pytest.fixture
async def viewer(browser_client: httpx.AsyncClient, tenant: Tenant) -> Viewer:
    """Signed in with the tenant's test key."""
    signed_in = Viewer(browser_client)
    response = await signed_in.sign_in(key_of(tenant.test))
    assert response.status_code == 303, response.text
    return signed_in
