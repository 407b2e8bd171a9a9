"""A message's ``metadata`` is bounded (keys, key and string length, nesting, bytes; the
numbers live in ``core.metadata``): within the limits it is stored and echoed, beyond
them the send is a 422 naming ``metadata`` that says which limit, and nothing is stored."""

from typing import Any

import pytest

from omniroute.core.metadata import MAX_BYTES, MAX_DEPTH, MAX_KEY_LENGTH, MAX_KEYS, MAX_STRING_LENGTH
from tests.conftest import Tenant, assert_error

AT_THE_LIMITS: dict[str, Any] = {
    **{f"k{i:02}": "x" * 100 for i in range(MAX_KEYS - 2)},
    "k" * MAX_KEY_LENGTH: "y" * MAX_STRING_LENGTH,
    "nested": [[1, 2, 3]],
}


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"child": value}
    return value


TOO_LARGE: dict[str, tuple[dict[str, Any], str]] = {
    "too many keys": ({f"k{i}": i for i in range(MAX_KEYS + 1)}, f"more than {MAX_KEYS} keys"),
    "too many keys in all": (
        {"a": {f"k{i}": i for i in range(MAX_KEYS // 2)}, "b": {f"k{i}": i for i in range(MAX_KEYS // 2)}},
        f"more than {MAX_KEYS} keys",
    ),
    "key too long": ({"k" * (MAX_KEY_LENGTH + 1): 1}, f"longer than {MAX_KEY_LENGTH} characters"),
    "string too long": ({"note": "x" * (MAX_STRING_LENGTH + 1)}, f"at most {MAX_STRING_LENGTH} are allowed"),
    "string in a list too long": ({"notes": ["x" * (MAX_STRING_LENGTH + 1)]}, "metadata.notes[0]"),
    "too deep": (nested(MAX_DEPTH + 1), f"deeper than {MAX_DEPTH} levels"),
    "too many bytes": ({"items": ["x" * 400] * 25}, f"at most {MAX_BYTES} are allowed"),
}


async def test_metadata_at_the_limits_is_stored_and_echoed(tenant: Tenant) -> None:
    assert len(AT_THE_LIMITS) == MAX_KEYS
    response = await tenant.send(channel_id=tenant.sms, metadata=AT_THE_LIMITS)
    assert response.status_code == 202, response.text
    assert (await tenant.message(response.json()["id"]))["metadata"] == AT_THE_LIMITS


@pytest.mark.parametrize("case", list(TOO_LARGE))
async def test_metadata_beyond_a_limit_is_refused_naming_it(tenant: Tenant, case: str) -> None:
    metadata, said = TOO_LARGE[case]
    error = assert_error(
        await tenant.send(channel_id=tenant.sms, metadata=metadata),
        422,
        "metadata_too_large",
        param="metadata",
    )
    assert said in error["message"], error
    assert (await tenant.test.get("/v1/messages")).json()["data"] == []
