"""Text that no database can store (a NUL character, an unpaired UTF-16 surrogate) is
refused in every input, once for all of them: any JSON body string or key, path
parameter or query parameter is a 422 naming the field, on SQLite and PostgreSQL alike,
and nothing is stored. A body nested deeper than the limit is refused with that limit."""

import json
from typing import Any

import pytest

from omniroute.core.text import MAX_JSON_DEPTH, storable
from tests.conftest import Tenant, assert_error

NUL = "\u0000"
TEXT = {"text": {"body": "Hello"}}
TEMPLATE = {"name": "nul_check", "language": "en", "category": "UTILITY"}

# (method, path, JSON body, the param named); {sms}/{whatsapp} are the tenant's channels.
PLACES: dict[str, tuple[str, str, Any, str]] = {
    "message text": (
        "POST",
        "/v1/messages",
        {"channel_id": "{sms}", "to": "+2348012345678", "text": {"body": f"Hi{NUL}"}},
        "text.body",
    ),
    "metadata value": (
        "POST",
        "/v1/messages",
        {"channel_id": "{sms}", "to": "+2348012345678", **TEXT, "metadata": {"order": f"A{NUL}1"}},
        "metadata.order",
    ),
    "metadata key": (
        "POST",
        "/v1/messages",
        {"channel_id": "{sms}", "to": "+2348012345678", **TEXT, "metadata": {f"or{NUL}der": "A1"}},
        "metadata",
    ),
    "reference": (
        "POST",
        "/v1/messages",
        {"channel_id": "{sms}", "to": "+2348012345678", **TEXT, "reference": f"ref{NUL}"},
        "reference",
    ),
    "recipient": (
        "POST",
        "/v1/messages",
        {"channel_id": "{sms}", "to": f"+234801234{NUL}5678", **TEXT},
        "to",
    ),
    "channel name": (
        "POST",
        "/v1/channels",
        {"type": "sms", "name": f"Sup{NUL}port", "provider": "sandbox"},
        "name",
    ),
    "channel rename": ("PATCH", "/v1/channels/{sms}", {"name": f"Sup{NUL}port"}, "name"),
    "template text": (
        "POST",
        "/v1/channels/{whatsapp}/templates",
        {**TEMPLATE, "components": [{"type": "BODY", "text": f"Hi{NUL}"}]},
        "components",
    ),
    "webhook description": (
        "POST",
        "/v1/webhook-endpoints",
        {"url": "https://example.com/h", "description": f"d{NUL}"},
        "description",
    ),
    "sandbox inbound": (
        "POST",
        "/v1/sandbox/inbound",
        {"channel_id": "{whatsapp}", "from": "+2348012345678", "text": {"body": f"Hi{NUL}"}},
        "text.body",
    ),
    "workspace name": ("PATCH", "/v1/workspace", {"name": f"Acme{NUL}"}, "name"),
    "id in the path": ("GET", "/v1/messages/msg_1%00", None, "message_id"),
    "channel id in the path": ("GET", "/v1/channels/{sms}%00/window?to=%2B2348012345678", None, "channel_id"),
    "query parameter": ("GET", "/v1/contacts?address=%2B234%00", None, "address"),
    "list filter": ("GET", "/v1/messages?channel_id=ch_%00", None, "channel_id"),
    "metadata NaN": (
        "POST",
        "/v1/messages",
        {"channel_id": "{sms}", "to": "+2348012345678", **TEXT, "metadata": {"score": float("nan")}},
        "metadata.score",
    ),
    "template example Infinity": (
        "POST",
        "/v1/templates/lint",
        {**TEMPLATE, "components": [{"type": "BODY", "text": "Hi", "x": float("inf")}]},
        "components",
    ),
    "unpaired surrogate": (
        "POST",
        "/v1/messages",
        {"channel_id": "{sms}", "to": "+2348012345678", "text": {"body": "Hi\ud800"}},
        "text.body",
    ),
}


def _filled(value: Any, tenant: Tenant) -> Any:
    if isinstance(value, str):
        return value.replace("{sms}", tenant.sms).replace("{whatsapp}", tenant.whatsapp)
    if isinstance(value, dict):
        return {key: _filled(item, tenant) for key, item in value.items()}
    if isinstance(value, list):
        return [_filled(item, tenant) for item in value]
    return value


@pytest.mark.parametrize("place", list(PLACES))
async def test_unstorable_text_anywhere_is_a_422_naming_the_field(tenant: Tenant, place: str) -> None:
    method, path, body, param = PLACES[place]
    content = None if body is None else json.dumps(_filled(body, tenant)).encode()  # \u0000 escaped
    response = await tenant.test.request(
        method, _filled(path, tenant), content=content, headers={"Content-Type": "application/json"}
    )

    error = assert_error(response, 422, "parameter_invalid")
    assert str(error["param"]).startswith(param), error
    assert any(word in error["message"] for word in ("NUL", "surrogate", "NaN")), error


async def test_the_first_field_in_document_order_is_named(tenant: Tenant) -> None:
    body = {
        "channel_id": tenant.sms,
        "to": "+2348012345678",
        "text": {"body": f"a{NUL}"},
        "reference": f"b{NUL}",
    }
    response = await tenant.test.post(
        "/v1/messages", content=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    assert_error(response, 422, "parameter_invalid", param="text.body")


async def test_refused_text_changes_nothing(tenant: Tenant) -> None:
    await tenant.send(channel_id=tenant.sms, text={"body": f"Hi{NUL}"})
    listed = (await tenant.test.get("/v1/messages")).json()["data"]
    contacts = (await tenant.test.get("/v1/contacts")).json()["data"]
    assert (listed, contacts) == ([], [])


async def test_an_escaped_backslash_before_u0000_is_ordinary_text(tenant: Tenant) -> None:
    response = await tenant.send(channel_id=tenant.sms, text={"body": "a literal \\u0000 is fine"})
    assert response.status_code == 202, response.text


def nested(depth: int) -> bytes:
    return b'{"channel_id":"x","to":"+1","metadata":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH, 1000, 100_000])
async def test_a_body_nested_too_deep_is_refused_with_the_limit(tenant: Tenant, depth: int) -> None:
    response = await tenant.test.post(
        "/v1/messages", content=nested(depth), headers={"Content-Type": "application/json"}
    )
    error = assert_error(response, 422, "invalid_json", param=None)
    assert f"more than {MAX_JSON_DEPTH} levels deep" in error["message"]


async def test_a_body_that_is_not_utf8_says_so(tenant: Tenant) -> None:
    response = await tenant.test.post(
        "/v1/messages", content=b'{"to": "caf\xe9"}', headers={"Content-Type": "application/json"}
    )
    error = assert_error(response, 422, "invalid_json")
    assert "UTF-8" in error["message"]


async def test_a_body_that_is_not_sent_as_json_says_so(tenant: Tenant) -> None:
    response = await tenant.test.post(
        "/v1/messages", content=b'{"to": "+1"}', headers={"Content-Type": "text/plain"}
    )
    error = assert_error(response, 422, "invalid_json", param=None)
    assert "Content-Type: application/json" in error["message"]


def test_provider_payloads_are_made_storable_not_refused() -> None:
    payload = {"text": {"body": f"Hi{NUL} there\ud800"}, f"k{NUL}": [f"{NUL}x", 1, None, float("nan")]}
    assert storable(payload) == {"text": {"body": "Hi there\ufffd"}, "k": ["x", 1, None, None]}
