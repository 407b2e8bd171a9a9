"""The served OpenAPI document describes every answer an operation gives, errors included.

FastAPI documents only the success response (and a 422 in its own shape, which this API
never sends). ``document_errors`` completes the generated document once, by rule, instead
of each route listing its errors by hand:

- every operation may answer 503 (the database is unavailable);
- an operation that takes an API key (the ``ApiKey`` security scheme) may answer 401;
- one with path parameters, a ``starting_after`` cursor, or a body that names a resource by id
  (``channel_id``), 404 (no such resource, or no such item of the list, for this key's mode);
- one with parameters or a body 422 (``param`` names the bad field);
- one that writes (POST, PUT, PATCH, DELETE) 409 (an ``Idempotency-Key`` reused with another
  body, a concurrent change, a messaging policy);
- a POST that takes an API key accepts ``Idempotency-Key``.

A route (or router) that can answer more names the statuses with ``error_responses(...)``;
every error response gets the one ``ErrorResponse`` schema, the shape ``APIError.body`` renders.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field

from omniroute.core.errors import APIError
from omniroute.idempotency.service import HEADER as IDEMPOTENCY_HEADER
from omniroute.idempotency.service import MAX_KEY_LENGTH

API_KEY = HTTPBearer(
    scheme_name="ApiKey",
    description="`Authorization: Bearer or_test_...` (sandbox) or `or_live_...`.",
    auto_error=False,  # authentication itself, with the contract's errors, is workspaces.auth's
)

ERROR_DESCRIPTIONS = {
    401: "No API key, or not a valid one (`authentication_required`, `invalid_api_key`).",
    403: "Not allowed with this key or credential (e.g. `live_mode_forbidden` for sandbox controls).",
    404: "No such resource for this API key's mode (`resource_not_found`).",
    409: "Conflicts with the current state: an `Idempotency-Key` reused with another body "
    "(`idempotency_conflict`), a concurrent change (`concurrent_update`), or a messaging rule "
    "(`policy_error`, e.g. `window_closed`).",
    422: "A parameter or the body is invalid; `param` names it.",
    429: "Too many requests; `details.retry_after` says when to try again.",
    502: "The provider could not be reached or refused the call (`provider_error`).",
    503: "The service is temporarily unavailable (`service_unavailable`); retry after `Retry-After`.",
}

CURSOR = "starting_after"
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
OPERATION_KEYS = frozenset({"get", "head", "post", "put", "patch", "delete", "options", "trace"})
"""The keys of an OpenAPI path item that are operations (others: parameters, summary, ...)."""


def _error_types() -> list[str]:
    types: set[str] = set()
    classes: list[type[APIError]] = [APIError]
    while classes:
        cls = classes.pop()
        types.add(cls.type)
        classes.extend(cls.__subclasses__())
    return sorted(types)


class ErrorDetail(BaseModel):
    type: str = Field(json_schema_extra={"enum": _error_types()})  # type: ignore[dict-item]
    code: str = Field(description="Stable, machine-readable; branch on this.")
    message: str = Field(description="What happened and what to do, for a human.")
    param: str | None = Field(description="The request field at fault, if one is.")
    details: dict[str, Any]
    request_id: str | None


class ErrorResponse(BaseModel):
    """Every error the API answers (``APIError.body``)."""

    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Extra error statuses for ``responses=`` on a route or router; ``document_errors``
    gives them the error schema."""
    return {status: {"description": ERROR_DESCRIPTIONS[status]} for status in statuses}


def _body_names_a_resource(operation: dict[str, Any], components: dict[str, Any]) -> bool:
    """The JSON body refers to a resource by id (``channel_id``, ...), which may not exist."""
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    body = components.get(body.get("$ref", "").rpartition("/")[2], body)
    return any(name.endswith("_id") for name in body.get("properties", {}))


def _implied_statuses(method: str, operation: dict[str, Any], components: dict[str, Any]) -> set[int]:
    parameters = operation.get("parameters", [])
    statuses = {503}
    if operation.get("security"):
        statuses.add(401)
    if any(p["in"] == "path" or p["name"] == CURSOR for p in parameters) or _body_names_a_resource(
        operation, components
    ):
        statuses.add(404)
    if parameters or "requestBody" in operation:
        statuses.add(422)
    if method in WRITE_METHODS:
        statuses.add(409)
    return statuses


ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}

IDEMPOTENCY_PARAMETER = {
    "name": IDEMPOTENCY_HEADER,
    "in": "header",
    "required": False,
    "description": "The same key with the same body (within 24 h by default) answers the first response "
    "again without doing the work twice; the same key with another body is a 409.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
}


def _complete_operation(method: str, operation: dict[str, Any], components: dict[str, Any]) -> None:
    if method == "post" and operation.get("security"):
        parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
        if IDEMPOTENCY_PARAMETER not in parameters:
            parameters.append(IDEMPOTENCY_PARAMETER)
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status in _implied_statuses(method, operation, components):
        responses.setdefault(str(status), {"description": ERROR_DESCRIPTIONS[status]})
    for code, response in responses.items():
        if not code.isdigit() or int(code) < 400:
            continue
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        if "content" not in response or schema.get("$ref", "").endswith("/HTTPValidationError"):
            response["content"] = ERROR_CONTENT  # FastAPI's own 422 shape is never sent
            response["description"] = ERROR_DESCRIPTIONS.get(int(code), response.get("description"))


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Complete a generated OpenAPI document in place (idempotent) and return it."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if method in OPERATION_KEYS:
                _complete_operation(method, operation, components)
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    error_schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components["ErrorResponse"] = error_schema
    return schema


def install_openapi(app: FastAPI) -> None:
    """Serve the completed document (FastAPI caches what it generates; so does this)."""
    generate = app.openapi
    completed: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        schema = generate()
        if not completed or completed[0] is not schema:
            completed[:] = [document_errors(schema)]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
