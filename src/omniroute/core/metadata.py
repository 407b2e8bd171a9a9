"""``metadata``: the caller's own JSON object, stored with a resource and echoed in its
events and webhooks. Bounded so that it stays a label, not a payload: every event and
webhook delivery repeats it."""

import json
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

MAX_KEYS = 50
"""Keys in all, counting those of nested objects."""
MAX_KEY_LENGTH = 40
MAX_STRING_LENGTH = 500
MAX_DEPTH = 3
"""Levels of objects and arrays, the metadata object itself being the first."""
MAX_BYTES = 8192
"""Size as compact UTF-8 JSON."""

LIMITS = (
    f"at most {MAX_KEYS} keys in all, keys of at most {MAX_KEY_LENGTH} characters, strings of at most "
    f"{MAX_STRING_LENGTH} characters, {MAX_DEPTH} levels of nesting and {MAX_BYTES} bytes as JSON"
)


def _bounded(metadata: dict[str, Any]) -> dict[str, Any]:
    keys = 0
    pending: list[tuple[str, Any, int]] = [("metadata", metadata, 1)]
    while pending:
        path, value, depth = pending.pop()
        if isinstance(value, dict | list) and depth > MAX_DEPTH:
            _refuse(f"{path} nests deeper than {MAX_DEPTH} levels")
        if isinstance(value, str) and len(value) > MAX_STRING_LENGTH:
            _refuse(f"{path} is {len(value)} characters long; at most {MAX_STRING_LENGTH} are allowed")
        if isinstance(value, dict):
            keys += len(value)
            if keys > MAX_KEYS:
                _refuse(f"has more than {MAX_KEYS} keys")
            for key, item in value.items():
                if len(key) > MAX_KEY_LENGTH:
                    _refuse(f"key '{key[:MAX_KEY_LENGTH]}…' is longer than {MAX_KEY_LENGTH} characters")
                pending.append((f"{path}.{key}", item, depth + 1))
        elif isinstance(value, list):
            pending.extend((f"{path}[{index}]", item, depth + 1) for index, item in enumerate(value))
    size = len(json.dumps(metadata, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_BYTES:
        _refuse(f"is {size} bytes as JSON; at most {MAX_BYTES} are allowed")
    return metadata


def _refuse(problem: str) -> None:
    raise PydanticCustomError(
        "metadata_too_large",
        "{problem}. Metadata allows {limits}.",
        {"problem": problem, "limits": LIMITS, "code": "metadata_too_large", "param": "metadata"},
    )


Metadata = Annotated[
    dict[str, Any],
    AfterValidator(_bounded),
    Field(description=f"Your own JSON object, echoed in events and webhooks: {LIMITS}."),
]
