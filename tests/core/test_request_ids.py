"""Every response carries ``X-Request-Id: req_...``; an error names the same id."""

import re

import httpx

from omniroute.core.ids import new_id
from tests.conftest import Tenant

REQUEST_ID = re.compile(r"^req_[0-9a-hjkmnp-tv-z]{26}$")


async def test_every_kind_of_response_has_a_request_id(tenant: Tenant, anonymous: httpx.AsyncClient) -> None:
    await tenant.inbound()
    spare = (
        await tenant.test.post("/v1/channels", json={"type": "sms", "name": "x", "provider": "sandbox"})
    ).json()
    responses = {
        200: await tenant.test.get("/v1/channels"),
        201: await tenant.inbound(),
        202: await tenant.send(),
        204: await tenant.test.delete(f"/v1/channels/{spare['id']}"),
        401: await anonymous.get("/v1/channels"),
        403: await tenant.live.get("/v1/sandbox/clock"),
        404: await tenant.test.get("/v1/messages/msg_nope"),
        405: await tenant.test.put("/v1/messages"),
        409: await tenant.send("+2348099999999"),
        422: await tenant.send("garbage"),
    }
    for status, response in responses.items():
        assert response.status_code == status, (status, response.text)
        assert REQUEST_ID.match(response.headers["x-request-id"]), (status, response.headers)


async def test_health_check_and_unknown_routes_have_request_ids(anonymous: httpx.AsyncClient) -> None:
    for path in ("/healthz", "/nowhere", "/v1/nowhere"):
        assert REQUEST_ID.match((await anonymous.get(path)).headers["x-request-id"])


async def test_error_body_names_the_same_request_id_as_the_header(
    tenant: Tenant, anonymous: httpx.AsyncClient
) -> None:
    for response in (
        await anonymous.get("/v1/channels"),
        await tenant.test.get("/v1/messages/msg_nope"),
        await tenant.send(),
        await tenant.send("garbage"),
        await tenant.test.post("/v1/messages", content=b"{", headers={"Content-Type": "application/json"}),
    ):
        assert response.json()["error"]["request_id"] == response.headers["x-request-id"]


async def test_request_ids_are_unique(tenant: Tenant) -> None:
    ids = {(await tenant.test.get("/v1/channels")).headers["x-request-id"] for _ in range(20)}
    assert len(ids) == 20


async def test_ids_are_prefixed_and_sort_by_creation(tenant: Tenant) -> None:
    await tenant.inbound()
    first = (await tenant.send(reference="a")).json()
    second = (await tenant.send(reference="b")).json()
    assert first["id"].startswith("msg_") and first["contact_id"].startswith("ct_")
    assert first["conversation_id"].startswith("cv_")
    assert first["id"] < second["id"]
    generated = [new_id("req") for _ in range(50)]
    assert all(REQUEST_ID.match(value) for value in generated)
