"""The emulator's HTTP surface: Meta's Graph API paths under any version prefix, and the
control API under ``/_emulator/``.

The send endpoint, ``POST /{version}/{phone_number_id}/messages``, is what a benchmark
hammers, so it is served straight from the ASGI call (``EmulatorApp``) without FastAPI's
routing, dependency and validation layers; everything else goes through FastAPI."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import Receive, Scope, Send

from omniroute.emulator.config import EmulatorConfig
from omniroute.emulator.errors import GraphError, unknown_object, unknown_path_error
from omniroute.emulator.service import Emulator, SendStats, graph_version, request_json, timestamp_of
from omniroute.policy.templates import TemplateStatus


class TextBody(BaseModel):
    body: str = Field(min_length=1)


class InboundIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    sender: str = Field(alias="from", min_length=7, description="The customer's number.")
    text: str | TextBody
    name: str | None = Field(default=None, description="The customer's WhatsApp profile name.")
    referral: dict[str, Any] | None = Field(
        default=None, description="Click-to-WhatsApp ad referral: opens a free entry point."
    )
    timestamp: int | float | str | None = Field(
        default=None, description="The customer's message time (unix seconds or RFC 3339); default now."
    )


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: TemplateStatus
    reason: str | None = None


def _json(content: Any) -> bytes:
    """JSON the way Starlette's ``JSONResponse`` renders it."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


class EmulatorApp(FastAPI):
    """FastAPI, with the send endpoint answered before FastAPI's routing."""

    emulator: Emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            parts = scope["path"].split("/")
            if len(parts) == 4 and parts[3] == "messages" and parts[1] and parts[2]:
                await self._messages(scope, receive, send, version=parts[1], object_id=parts[2])
                return
        await super().__call__(scope, receive, send)

    async def _messages(
        self, scope: Scope, receive: Receive, send: Send, version: str, object_id: str
    ) -> None:
        """``POST /{version}/{phone_number_id}/messages``, checked in the order FastAPI
        checks the other Graph routes: token, body, version, object."""
        try:
            self.emulator.authenticate(_header(scope, b"authorization"), _access_token(scope))
            raw = await _read_body(receive)
            body = request_json(raw)
            graph_version(version)
            _own(object_id, self.emulator.config.phone_number_id, "POST")
            status, answer = 200, self.emulator.send(version, body, raw)
        except GraphError as error:
            status, answer = error.http_status, error.body()
        content = _json(answer)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-length", str(len(content)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})


def _own(object_id: str, expected: str, method: str) -> None:
    if object_id != expected:
        raise unknown_object(method, object_id)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _access_token(scope: Scope) -> str | None:
    query: bytes = scope["query_string"]
    if b"access_token" not in query:
        return None
    values = parse_qs(query.decode("latin-1")).get("access_token")
    return values[-1] if values else None


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def create_emulator_app(config: EmulatorConfig) -> EmulatorApp:
    emulator = Emulator(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await emulator.close()

    app = EmulatorApp(title="omniroute WhatsApp Cloud API emulator", lifespan=lifespan)
    app.emulator = emulator
    app.state.emulator = emulator

    @app.exception_handler(GraphError)
    async def graph_error(request: Request, error: GraphError) -> JSONResponse:
        return JSONResponse(error.body(), status_code=error.http_status)

    async def authenticated(request: Request, access_token: str | None = Query(default=None)) -> None:
        emulator.authenticate(request.headers.get("authorization"), access_token)

    async def json_body(request: Request) -> Any:
        return request_json(await request.body())

    # -- control API -------------------------------------------------------------------

    @app.get("/_emulator/health")
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "phone_number_id": config.phone_number_id,
            "waba_id": config.waba_id,
            "webhook_url": config.webhook_url,
        }

    @app.post("/_emulator/inbound")
    async def inbound(body: InboundIn) -> dict[str, Any]:
        try:
            sent_at = timestamp_of(body.timestamp) if body.timestamp is not None else None
            text = body.text if isinstance(body.text, str) else body.text.body
            return emulator.receive(
                body.sender, text, name=body.name, referral=body.referral, sent_at=sent_at
            )
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc

    @app.post("/_emulator/templates/{template_id}/review")
    async def review(template_id: str, body: ReviewIn) -> dict[str, Any]:
        if template_id not in emulator.templates:
            raise HTTPException(404, f"no template {template_id}")
        return emulator.force_review(template_id, body.status, body.reason)

    @app.get("/_emulator/messages")
    async def messages() -> dict[str, Any]:
        return emulator.snapshot_messages()

    @app.get("/_emulator/webhooks")
    async def webhooks() -> dict[str, Any]:
        return {"data": [delivery.as_dict() for delivery in emulator.webhooks.deliveries]}

    @app.post("/_emulator/reset")
    async def reset() -> dict[str, Any]:
        await emulator.reset()
        return {"status": "reset"}

    @app.get("/_emulator/stats")
    async def stats() -> dict[str, int]:
        return emulator.stats.as_dict()

    @app.post("/_emulator/stats/reset")
    async def reset_stats() -> dict[str, int]:
        emulator.stats = SendStats()
        return emulator.stats.as_dict()

    # -- Graph API ---------------------------------------------------------------------

    @app.api_route(
        "/{version}/{object_id}/message_templates",
        methods=["GET", "POST", "DELETE"],
        dependencies=[Depends(authenticated)],
    )
    async def message_templates(
        version: str, object_id: str, request: Request, body: Any = Depends(json_body)
    ) -> dict[str, Any]:
        graph_version(version)
        _own(object_id, config.waba_id, request.method)
        params = dict(request.query_params)
        params.pop("access_token", None)
        if request.method == "GET":
            return emulator.list_templates(params, str(request.url.replace(query="")))
        if request.method == "DELETE":
            return emulator.delete_template(params.get("name"), params.get("hsm_id"))
        return emulator.create_template(body)

    @app.api_route("/{version}/{object_id}", methods=["GET", "POST"], dependencies=[Depends(authenticated)])
    async def graph_object(
        version: str,
        object_id: str,
        request: Request,
        fields: str | None = None,
        body: Any = Depends(json_body),
    ) -> dict[str, Any]:
        graph_version(version)
        method: Literal["GET", "POST"] = "GET" if request.method == "GET" else "POST"
        if object_id == config.phone_number_id and method == "GET":
            return emulator.phone_number(fields)
        if object_id in emulator.templates:
            if method == "GET":
                return emulator.templates[object_id].fields()
            return emulator.edit_template(object_id, body)
        raise unknown_object(method, object_id)

    @app.api_route("/{path:path}", methods=["GET", "POST", "DELETE"], dependencies=[Depends(authenticated)])
    async def unknown_path(path: str) -> None:
        raise unknown_path_error(path)

    return app
