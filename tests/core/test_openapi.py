"""The served OpenAPI document describes the errors every operation can answer, in the one
shape the API renders them."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from omniroute.core.errors import APIError, ConflictError, InvalidRequestError, NotFoundError
from omniroute.core.openapi import ErrorResponse
from tests.conftest import ERROR_TYPES, Tenant

Operation = tuple[str, str, dict[str, Any]]


@pytest.fixture
async def spec(anonymous: httpx.AsyncClient) -> dict[str, Any]:
    response = await anonymous.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def operations(spec: dict[str, Any]) -> Iterator[Operation]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def error_schema(operation: dict[str, Any], status: int) -> str:
    return str(operation["responses"][str(status)]["content"]["application/json"]["schema"]["$ref"])


async def test_every_error_response_has_the_error_schema(spec: dict[str, Any]) -> None:
    for method, path, operation in operations(spec):
        if path == "/healthz":
            continue  # its 503 is the health report itself
        for status in operation["responses"]:
            if int(status) >= 400:
                assert error_schema(operation, int(status)) == "#/components/schemas/ErrorResponse", (
                    method,
                    path,
                    status,
                )
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # FastAPI's shape is never sent


async def test_the_error_schema_is_what_the_api_renders(spec: dict[str, Any], tenant: Tenant) -> None:
    rendered = (await tenant.test.get("/v1/messages/msg_missing")).json()
    assert ErrorResponse.model_validate(rendered).model_dump() == rendered
    detail = spec["components"]["schemas"]["ErrorDetail"]
    assert set(detail["required"]) == set(rendered["error"]) == set(APIError("c", "m").body(None)["error"])
    assert set(detail["properties"]["type"]["enum"]) == ERROR_TYPES
    for error in (InvalidRequestError("c", "m", param="p"), NotFoundError("c", "m"), ConflictError("c", "m")):
        ErrorResponse.model_validate(error.body("req_1"))


async def test_each_operation_lists_the_errors_it_can_answer(spec: dict[str, Any]) -> None:
    for method, path, operation in operations(spec):
        documented = {int(status) for status in operation["responses"]}
        parameters = operation.get("parameters", [])
        expected = {503}
        if path.startswith("/v1/"):
            expected |= {401}
            assert operation["security"] == [{"ApiKey": []}], (method, path)
        if "{" in path or any(p["name"] == "starting_after" for p in parameters):
            expected |= {404}  # no such resource, or a cursor that is no item of the list
        if parameters or "requestBody" in operation:
            expected |= {422}
        if method in ("POST", "PATCH", "DELETE"):
            expected |= {409}
        if path.startswith("/v1/sandbox/"):
            expected |= {403}  # sandbox controls refuse a live key
        assert expected <= documented, (method, path, sorted(expected - documented))


async def test_provider_calls_and_webhook_checks_document_their_own_errors(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    assert "502" in paths["/v1/channels/{channel_id}/templates/sync"]["post"]["responses"]
    assert "502" in paths["/v1/messages/{message_id}/read"]["post"]["responses"]
    assert "403" in paths["/hooks/meta/{channel_id}"]["get"]["responses"]  # wrong verify token
    assert "401" in paths["/hooks/meta/{channel_id}"]["post"]["responses"]  # bad signature
    assert set(paths["/healthz"]["get"]["responses"]) == {"200", "503"}


async def test_every_post_with_an_api_key_takes_an_idempotency_key(spec: dict[str, Any]) -> None:
    for method, path, operation in operations(spec):
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        keyed_post = method == "POST" and path.startswith("/v1/")
        assert ("Idempotency-Key" in headers) == keyed_post, (method, path)


async def test_the_api_key_is_a_bearer_security_scheme(spec: dict[str, Any]) -> None:
    assert spec["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["ApiKey"]["description"],
    }
    assert "security" not in spec["paths"]["/hooks/meta/{channel_id}"]["post"]  # signed, not keyed


async def test_a_body_that_names_a_resource_documents_404(spec: dict[str, Any]) -> None:
    for path in ("/v1/messages", "/v1/sandbox/inbound", "/v1/sandbox/templates"):  # channel_id
        assert "404" in spec["paths"][path]["post"]["responses"], path
    for path in ("/v1/channels", "/v1/templates/lint"):
        assert "404" not in spec["paths"][path]["post"]["responses"], path


async def test_every_list_documents_404_for_a_cursor_that_is_no_item(spec: dict[str, Any]) -> None:
    lists = [
        (method, path, operation)
        for method, path, operation in operations(spec)
        if any(p["name"] == "starting_after" for p in operation.get("parameters", []))
    ]
    assert len(lists) >= 8
    for method, path, operation in lists:
        assert "404" in operation["responses"], (method, path)
