"""The application as a whole: health check and the served API description."""

import httpx


async def test_health_check_answers_200(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


async def test_openapi_describes_the_contract_paths(anonymous: httpx.AsyncClient) -> None:
    spec = (await anonymous.get("/openapi.json")).json()
    for path in (
        "/v1/channels",
        "/v1/channels/{channel_id}",
        "/v1/channels/{channel_id}/window",
        "/v1/channels/{channel_id}/templates",
        "/v1/templates/lint",
        "/v1/templates/{template_id}",
        "/v1/messages",
        "/v1/messages/{message_id}",
        "/v1/conversations",
        "/v1/conversations/{conversation_id}",
        "/v1/sandbox/inbound",
        "/v1/sandbox/clock",
        "/v1/sandbox/clock/advance",
    ):
        assert path in spec["paths"], path
