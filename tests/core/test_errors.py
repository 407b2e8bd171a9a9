"""Bad input: every refusal is a 4xx in the contract's error shape, naming the field; never a 500."""

from typing import Any

import httpx
import pytest

from tests.conftest import CUSTOMER, Tenant, assert_error


async def test_unparseable_number_is_invalid_recipient(tenant: Tenant) -> None:
    for written in ("hello", "+1", "12", "+999 1234 5678 9999 9999"):
        response = await tenant.send(written)
        error = assert_error(
            response, 422, "invalid_recipient", param="to", error_type="invalid_request_error"
        )
        assert "+2348012345678" in error["message"]  # says what a good number looks like


async def test_bad_email_address_is_invalid_recipient(tenant: Tenant) -> None:
    assert_error(
        await tenant.send("not-an-email", channel_id=tenant.email), 422, "invalid_recipient", param="to"
    )


async def test_malformed_json_is_invalid_json(tenant: Tenant) -> None:
    for raw in (b'{"channel_id": ', b"{'single': 'quotes'}", b"\xff\xfe{}"):
        response = await tenant.test.post(
            "/v1/messages", content=raw, headers={"Content-Type": "application/json"}
        )
        assert_error(response, 422, "invalid_json")


async def test_missing_content_is_content_missing(tenant: Tenant) -> None:
    response = await tenant.test.post("/v1/messages", json={"channel_id": tenant.whatsapp, "to": CUSTOMER})
    error = assert_error(response, 422, "content_missing", param="text")
    assert "text" in error["message"] and "template" in error["message"]


async def test_two_contents_are_ambiguous(tenant: Tenant) -> None:
    response = await tenant.send(text={"body": "Hi"}, template={"name": "order_update", "language": "en"})
    assert_error(response, 422, "content_ambiguous")


async def test_unknown_channel_is_not_found_naming_the_field(tenant: Tenant) -> None:
    error = assert_error(
        await tenant.send(channel_id="ch_doesnotexist"), 404, "resource_not_found", param="channel_id"
    )
    assert error["type"] == "not_found_error"
    assert "ch_doesnotexist" in error["message"]


async def test_missing_required_field_is_parameter_missing(tenant: Tenant) -> None:
    response = await tenant.test.post("/v1/messages", json={"to": CUSTOMER, "text": {"body": "x"}})
    assert_error(response, 422, "parameter_missing", param="channel_id")
    response = await tenant.test.post(
        "/v1/messages", json={"channel_id": tenant.whatsapp, "text": {"body": "x"}}
    )
    assert_error(response, 422, "parameter_missing", param="to")


async def test_nested_field_errors_name_the_nested_field(tenant: Tenant) -> None:
    response = await tenant.send(text={"body": ""})
    assert_error(response, 422, "parameter_invalid", param="text.body")
    response = await tenant.send(image={"link": "ftp://example.com/a.png"})
    assert_error(response, 422, "parameter_invalid", param="image.link")


async def test_unknown_body_field_is_refused(tenant: Tenant) -> None:
    response = await tenant.send(text={"body": "Hi"}, colour="blue")
    assert_error(response, 422, "parameter_invalid", param="colour")


async def test_unknown_route_is_a_404_in_the_error_shape(
    tenant: Tenant, anonymous: httpx.AsyncClient
) -> None:
    assert_error(
        await tenant.test.get("/v1/nothing-here"), 404, "route_not_found", error_type="not_found_error"
    )
    assert_error(await anonymous.get("/nothing"), 404, "route_not_found")


async def test_wrong_method_is_a_405_in_the_error_shape(tenant: Tenant) -> None:
    assert_error(await tenant.test.put("/v1/messages", json={}), 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/v1/messages", {"GET", "POST"}),
        ("/v1/channels/ch_anything", {"GET", "PATCH", "DELETE"}),
        ("/v1/templates/tpl_anything", {"GET", "POST", "DELETE"}),
        ("/v1/sandbox/clock", {"GET"}),
    ],
)
async def test_a_405_lists_every_method_the_path_allows(
    tenant: Tenant, anonymous: httpx.AsyncClient, path: str, allowed: set[str]
) -> None:
    for client in (tenant.test, anonymous):  # routing refuses the method before authentication
        response = await client.put(path, json={})
        assert_error(response, 405, "method_not_allowed")
        assert {method.strip() for method in response.headers["allow"].split(",")} == allowed


@pytest.mark.parametrize("limit", ["0", "201", "-1", "many"])
async def test_limit_out_of_range_is_refused(tenant: Tenant, limit: str) -> None:
    for path in ("/v1/messages", "/v1/channels", "/v1/conversations", "/v1/contacts"):
        assert_error(
            await tenant.test.get(path, params={"limit": limit}), 422, "parameter_invalid", param="limit"
        )


async def test_limit_bounds_are_accepted(tenant: Tenant) -> None:
    for limit in ("1", "200"):
        assert (await tenant.test.get("/v1/messages", params={"limit": limit})).status_code == 200


async def test_unknown_message_is_not_found(tenant: Tenant) -> None:
    assert_error(await tenant.test.get("/v1/messages/msg_nope"), 404, "resource_not_found")


async def test_unknown_status_filter_is_refused(tenant: Tenant) -> None:
    assert_error(
        await tenant.test.get("/v1/messages", params={"status": "lost"}),
        422,
        "parameter_invalid",
        param="status",
    )


BAD_SEND_BODIES: list[Any] = [
    [],
    "text",
    42,
    None,
    {"channel_id": 1, "to": CUSTOMER, "text": {"body": "x"}},
    {"channel_id": "ch_x" * 20, "to": CUSTOMER, "text": {"body": "x"}},
    {"channel_id": "ch_x", "to": ["+234"], "text": {"body": "x"}},
    {"channel_id": "ch_x", "to": CUSTOMER, "text": "hello"},
    {"channel_id": "ch_x", "to": CUSTOMER, "text": {"body": "x" * 5000}},
    {"channel_id": "ch_x", "to": CUSTOMER, "template": {"name": "x"}},
    {"channel_id": "ch_x", "to": CUSTOMER, "template": {"name": "x", "language": "en", "parameters": []}},
    {"channel_id": "ch_x", "to": CUSTOMER, "location": {"latitude": 100, "longitude": 0}},
    {"channel_id": "ch_x", "to": CUSTOMER, "image": {"link": "https://a.b/c", "media_id": "1"}},
    {"channel_id": "ch_x", "to": CUSTOMER, "text": {"body": "x"}, "priority": "urgent"},
    {"channel_id": "ch_x", "to": CUSTOMER, "text": {"body": "x"}, "metadata": "notanobject"},
    {"channel_id": "ch_x", "to": CUSTOMER, "text": {"body": "x"}, "fallback": "sms"},
    {"channel_id": "ch_x", "to": "", "text": {"body": "x"}},
    {"channel_id": "ch_x", "to": "\u0000\u0001", "text": {"body": "x"}},
]


async def test_no_bad_send_body_is_ever_a_500(tenant: Tenant) -> None:
    for body in BAD_SEND_BODIES:
        response = await tenant.test.post("/v1/messages", json=body)
        assert 400 <= response.status_code < 500, (body, response.text)
        assert_error(response, response.status_code, response.json()["error"]["code"])


async def test_no_bad_send_to_a_real_channel_is_ever_a_500(tenant: Tenant) -> None:
    await tenant.inbound()
    for body in BAD_SEND_BODIES:
        if isinstance(body, dict) and body.get("channel_id") == "ch_x":
            response = await tenant.test.post("/v1/messages", json={**body, "channel_id": tenant.whatsapp})
            assert 400 <= response.status_code < 500, (body, response.text)
            assert_error(response, response.status_code, response.json()["error"]["code"])


async def test_no_bad_query_is_ever_a_500(tenant: Tenant) -> None:
    for path, params in (
        ("/v1/messages", {"starting_after": "x" * 41}),
        ("/v1/messages", {"direction": "sideways"}),
        ("/v1/messages", {"contact": "nobody"}),
        ("/v1/messages", {"reference": "r" * 201}),
        (f"/v1/channels/{tenant.whatsapp}/window", {"to": "x" * 400}),
        ("/v1/conversations", {"channel_id": "ch_nope", "contact": "+1"}),
    ):
        response = await tenant.test.get(path, params=params)
        assert response.status_code < 500, (path, params, response.text)
        if response.status_code >= 400:
            assert_error(response, response.status_code, response.json()["error"]["code"])
