"""Idempotency-Key on POST: the same key and body replays the first response without
doing the work twice; a different body with the same key is a conflict."""

import asyncio
from typing import Any

import httpx

from omniroute.core.db import Database
from tests.conftest import CUSTOMER, Tenant, TenantFactory, assert_error, settled


def send_body(tenant: Tenant, reference: str, text: str = "Your order has shipped") -> dict[str, Any]:
    return {"channel_id": tenant.whatsapp, "to": CUSTOMER, "text": {"body": text}, "reference": reference}


async def post(client: httpx.AsyncClient, body: dict[str, Any], key: str) -> httpx.Response:
    return await client.post("/v1/messages", json=body, headers={"Idempotency-Key": key})


async def messages_with_reference(tenant: Tenant, reference: str) -> list[dict[str, Any]]:
    response = await tenant.test.get("/v1/messages", params={"reference": reference})
    return list(response.json()["data"])


async def test_same_key_and_body_returns_the_first_response_and_sends_once(
    tenant: Tenant, db: Database
) -> None:
    await tenant.inbound()
    body = send_body(tenant, "idem-1")
    first = await post(tenant.test, body, "key-1")
    assert first.status_code == 202, first.text
    second = await post(tenant.test, body, "key-1")
    assert second.status_code == first.status_code
    assert second.json() == first.json()
    assert second.content == first.content

    assert [m["id"] for m in await messages_with_reference(tenant, "idem-1")] == [first.json()["id"]]
    await tenant.wait_for(first.json()["id"], "read")
    await settled(db, tenant.workspace_id)
    assert len(await messages_with_reference(tenant, "idem-1")) == 1


async def test_replay_after_the_message_progressed_still_returns_the_first_response(tenant: Tenant) -> None:
    await tenant.inbound()
    body = send_body(tenant, "idem-later")
    first = await post(tenant.test, body, "key-later")
    await tenant.wait_for(first.json()["id"], "read")
    replay = await post(tenant.test, body, "key-later")
    assert replay.json() == first.json()
    assert replay.json()["status"] == "queued"


async def test_same_body_with_keys_in_a_different_json_order_is_the_same_request(tenant: Tenant) -> None:
    await tenant.inbound()
    body = send_body(tenant, "idem-order")
    first = await post(tenant.test, body, "key-order")
    reordered = dict(reversed(list(body.items())))
    again = await post(tenant.test, reordered, "key-order")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert len(await messages_with_reference(tenant, "idem-order")) == 1


async def test_same_key_with_a_different_body_is_a_conflict(tenant: Tenant) -> None:
    await tenant.inbound()
    first = await post(tenant.test, send_body(tenant, "idem-2"), "key-2")
    assert first.status_code == 202
    conflict = await post(tenant.test, send_body(tenant, "idem-2", text="Something else"), "key-2")
    assert_error(conflict, 409, "idempotency_conflict", error_type="conflict_error")
    assert len(await messages_with_reference(tenant, "idem-2")) == 1


async def test_same_key_on_another_endpoint_is_a_conflict(tenant: Tenant) -> None:
    await tenant.inbound()
    await post(tenant.test, send_body(tenant, "idem-3"), "key-3")
    response = await tenant.test.post(
        "/v1/sandbox/clock/advance", json={"seconds": 60}, headers={"Idempotency-Key": "key-3"}
    )
    assert_error(response, 409, "idempotency_conflict")
    assert (await tenant.test.get("/v1/sandbox/clock")).json()["offset_seconds"] == 0


async def test_a_refused_request_replays_its_refusal(tenant: Tenant) -> None:
    body = send_body(tenant, "idem-refused")
    refused = await post(tenant.test, body, "key-refused")
    assert_error(refused, 409, "window_closed")

    await tenant.inbound()  # the window is open now, but the key's answer stands
    replay = await post(tenant.test, body, "key-refused")
    assert replay.status_code == 409
    assert replay.json() == refused.json()
    assert await messages_with_reference(tenant, "idem-refused") == []

    fresh = await post(tenant.test, body, "key-refused-2")
    assert fresh.status_code == 202, fresh.text


async def test_a_not_found_refusal_is_replayed_too(tenant: Tenant) -> None:
    body = {**send_body(tenant, "idem-404"), "channel_id": "ch_nope"}
    first = await post(tenant.test, body, "key-404")
    assert_error(first, 404, "resource_not_found")
    again = await post(tenant.test, body, "key-404")
    assert (again.status_code, again.json()) == (404, first.json())


async def test_replayed_response_still_has_its_own_request_id(tenant: Tenant) -> None:
    await tenant.inbound()
    body = send_body(tenant, "idem-rid")
    first = await post(tenant.test, body, "key-rid")
    again = await post(tenant.test, body, "key-rid")
    assert again.headers["x-request-id"].startswith("req_")
    assert again.headers["x-request-id"] != first.headers["x-request-id"]


async def test_idempotent_template_creation_creates_one_template(tenant: Tenant) -> None:
    body = {
        "name": "order_update",
        "language": "en",
        "category": "UTILITY",
        "components": [
            {
                "type": "BODY",
                "text": "Hi {{1}}, your order has shipped and will arrive soon.",
                "example": {"body_text": [["Ada"]]},
            }
        ],
    }
    url = f"/v1/channels/{tenant.whatsapp}/templates"
    first = await tenant.test.post(url, json=body, headers={"Idempotency-Key": "tpl-1"})
    again = await tenant.test.post(url, json=body, headers={"Idempotency-Key": "tpl-1"})
    assert first.status_code == 201, first.text
    assert (again.status_code, again.json()) == (201, first.json())
    listed = (await tenant.test.get(url)).json()["data"]
    assert [t["id"] for t in listed] == [first.json()["id"]]


async def test_idempotent_clock_advance_moves_the_clock_once(tenant: Tenant) -> None:
    for _ in range(3):
        response = await tenant.test.post(
            "/v1/sandbox/clock/advance", json={"seconds": 3600}, headers={"Idempotency-Key": "clock-1"}
        )
        assert response.status_code == 200
    assert (await tenant.test.get("/v1/sandbox/clock")).json()["offset_seconds"] == 3600


async def test_concurrent_requests_with_the_same_key_send_once(tenant: Tenant, db: Database) -> None:
    await tenant.inbound()
    body = send_body(tenant, "idem-race")
    responses = await asyncio.gather(*(post(tenant.test, body, "key-race") for _ in range(6)))
    statuses = {r.status_code for r in responses}
    assert statuses == {202}, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    await settled(db, tenant.workspace_id)
    assert len(await messages_with_reference(tenant, "idem-race")) == 1


async def test_keys_are_scoped_to_the_workspace(make_tenant: TenantFactory) -> None:
    first, second = await make_tenant(), await make_tenant()
    await first.inbound()
    await second.inbound()
    a = await post(first.test, send_body(first, "shared"), "same-key")
    b = await post(second.test, send_body(second, "shared"), "same-key")
    assert (a.status_code, b.status_code) == (202, 202)
    assert a.json()["id"] != b.json()["id"]


async def test_keys_are_scoped_to_the_mode(tenant: Tenant) -> None:
    clock = await tenant.test.post(
        "/v1/sandbox/clock/advance", json={"seconds": 60}, headers={"Idempotency-Key": "mode-key"}
    )
    assert clock.status_code == 200
    live = await tenant.live.post(
        "/v1/channels",
        json={"type": "sms", "name": "Live", "provider": "sandbox"},
        headers={"Idempotency-Key": "mode-key"},
    )
    assert live.status_code == 201, live.text


async def test_get_requests_ignore_the_key(tenant: Tenant) -> None:
    headers = {"Idempotency-Key": "get-key"}
    first = await tenant.test.get("/v1/sandbox/clock", headers=headers)
    await tenant.advance_clock(60)
    second = await tenant.test.get("/v1/sandbox/clock", headers=headers)
    assert second.json()["offset_seconds"] == first.json()["offset_seconds"] + 60


async def test_overlong_key_is_refused(tenant: Tenant) -> None:
    await tenant.inbound()
    response = await post(tenant.test, send_body(tenant, "long-key"), "k" * 256)
    assert_error(response, 422, "idempotency_key_invalid", param="Idempotency-Key")
    assert await messages_with_reference(tenant, "long-key") == []
