"""Every list pages with ``starting_after``: a cursor that is not an item of that list
(an unknown id, another workspace's id) is a 404 naming ``starting_after``, never a
silent first page; a real cursor continues the list."""

import pytest

from tests.conftest import Tenant, TenantFactory, assert_error

LISTS = [
    "/v1/channels",
    "/v1/contacts",
    "/v1/conversations",
    "/v1/messages",
    "/v1/channels/{whatsapp}/templates",
    "/v1/webhook-endpoints",
    "/v1/webhook-endpoints/{endpoint}/deliveries",
    "/v1/logs",
]


async def list_path(tenant: Tenant, path: str) -> str:
    if "{endpoint}" in path:
        created = await tenant.test.post("/v1/webhook-endpoints", json={"url": "https://example.com/hook"})
        assert created.status_code == 201, created.text
        path = path.replace("{endpoint}", created.json()["id"])
    return path.replace("{whatsapp}", tenant.whatsapp)


@pytest.mark.parametrize("path", LISTS)
async def test_an_unknown_cursor_is_a_404_naming_starting_after(tenant: Tenant, path: str) -> None:
    url = await list_path(tenant, path)
    response = await tenant.test.get(url, params={"starting_after": "msg_01m8zzzzzzzzzzzzzzzzzzzzzz"})
    assert_error(response, 404, "resource_not_found", param="starting_after")


async def test_another_workspaces_id_is_no_cursor(tenant: Tenant, make_tenant: TenantFactory) -> None:
    other = await make_tenant()
    response = await tenant.test.get("/v1/channels", params={"starting_after": other.whatsapp})
    assert_error(response, 404, "resource_not_found", param="starting_after")


async def test_a_real_cursor_continues_the_list(tenant: Tenant) -> None:
    first = (await tenant.test.get("/v1/channels", params={"limit": 1})).json()
    second = (
        await tenant.test.get("/v1/channels", params={"limit": 1, "starting_after": first["next_cursor"]})
    ).json()
    assert second["data"] and second["data"][0]["id"] < first["data"][0]["id"]
