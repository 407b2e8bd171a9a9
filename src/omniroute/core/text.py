"""Text every database can store, checked once for every input.

PostgreSQL refuses the NUL character (U+0000) in text and JSONB, and no driver can
encode an unpaired UTF-16 surrogate (U+D800-U+DFFF, which JSON's ``\\ud800`` escape
produces) as UTF-8. Client input carrying either (in any JSON body string or key, path
parameter or query parameter) is refused before the endpoint runs, as a 422 naming the
field. Provider payloads, which must be accepted whatever they hold, are cleaned with
``storable`` before they are read.

A JSON body may nest objects and arrays at most ``MAX_JSON_DEPTH`` deep."""

import json
import math
import re
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.requests import Request

from omniroute.core.errors import InvalidRequestError

MAX_JSON_DEPTH = 64

_NUL = "\x00"
_SURROGATE = re.compile("[\ud800-\udfff]")
_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|NaN|Infinity")
"""What may decode to NUL, a surrogate or a number JSON has not got (a raw NUL or
surrogate is invalid JSON already)."""

Location = tuple[str | int, ...]


def problem_with(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None."""
    if _NUL in text:
        return "contains a NUL character (\\u0000), which cannot be stored; remove it"
    if not text.isascii() and _SURROGATE.search(text):
        return (
            "contains an unpaired UTF-16 surrogate (\\ud800-\\udfff), which is not text; send valid Unicode"
        )
    return None


def storable(value: Any) -> Any:
    """``value`` (parsed JSON) with NUL characters removed, unpaired surrogates replaced
    by U+FFFD and NaN or Infinity by null, for payloads we must accept rather than refuse."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value.replace(_NUL, "")) if problem_with(value) else value
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [storable(item) for item in value]
    return value


def too_deep() -> InvalidRequestError:
    return InvalidRequestError(
        "invalid_json",
        f"The request body nests objects and arrays more than {MAX_JSON_DEPTH} levels deep; "
        "send a flatter document.",
    )


def unreadable_body(cause: BaseException | None) -> InvalidRequestError:
    """The error for a JSON body that could not even be parsed, saying why."""
    if isinstance(cause, RecursionError):
        return too_deep()
    if isinstance(cause, UnicodeDecodeError):
        return InvalidRequestError(
            "invalid_json",
            f"The request body is not valid JSON: it is not UTF-8 text (byte 0x{cause.object[cause.start]:02x} "
            f"at position {cause.start} is {cause.reason}).",
        )
    return InvalidRequestError("invalid_json", f"The request body could not be read as JSON: {cause}.")


async def refuse_unstorable_input(request: Request, *, json_body: bool) -> None:
    """Refuse a request whose path parameters, query parameters or (when the endpoint
    takes one) JSON body hold text that cannot be stored, or whose body nests too deep."""
    for name, value in request.path_params.items():
        _check(("path", name), str(value))
    for name, value in request.query_params.multi_items():
        _check(("query", name), name)
        _check(("query", name), value)
    if json_body:
        await _check_body(request)


async def _check_body(request: Request) -> None:
    body = await request.body()
    if not body:
        return
    content_type = request.headers.get("content-type", "application/json")
    media_type = content_type.partition(";")[0].strip().lower()
    if not (media_type == "application/json" or media_type.endswith("+json")):
        raise InvalidRequestError(
            "invalid_json",
            f"The request body must be JSON sent with Content-Type: application/json, not {content_type!r}.",
        )
    brackets = body.count(b"{") + body.count(b"[")
    if brackets <= MAX_JSON_DEPTH and not _SUSPECT.search(body):
        return  # nothing to find: skip parsing
    try:
        document = json.loads(body)
    except RecursionError as exc:
        raise too_deep() from exc
    except ValueError:
        return  # not JSON: FastAPI's own parsing reports it
    _check_document(document)


def _check_document(document: Any) -> None:
    """Walk the document in order without recursion (it may be deeper than Python's stack)."""
    pending: list[tuple[Location, Any]] = [(("body",), document)]
    while pending:
        location, value = pending.pop()
        if len(location) > MAX_JSON_DEPTH and isinstance(value, dict | list):
            raise too_deep()
        if isinstance(value, str):
            _check(location, value)
        elif isinstance(value, float) and not math.isfinite(value):
            raise _invalid(
                location, "is not a number JSON allows (NaN and Infinity are not); send a finite number"
            )
        elif isinstance(value, dict):
            for key in value:
                _check(location, key)
            pending.extend(((*location, key), item) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            pending.extend(((*location, index), value[index]) for index in reversed(range(len(value))))


def _check(location: Location, text: str) -> None:
    problem = problem_with(text)
    if problem is not None:
        raise _invalid(location, problem)


def _invalid(location: Location, problem: str) -> RequestValidationError:
    """Rendered like any invalid field (``core.http.validation_error``), ``param`` included."""
    message = problem if len(location) > 1 else f"The request body {problem}"
    return RequestValidationError([{"type": "value_unstorable", "loc": location, "msg": message}])
