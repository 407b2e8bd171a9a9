"""The emulator's HTTP surface: Meta's Graph API paths under any version prefix, and the
control API under ``/_emulator/``."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from omniroute.emulator.config import EmulatorConfig
from omniroute.emulator.errors import GraphError, invalid, unknown_object, unknown_path_error
from omniroute.emulator.service import Emulator, graph_version, timestamp_of
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


def create_emulator_app(config: EmulatorConfig) -> FastAPI:
    emulator = Emulator(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await emulator.close()

    app = FastAPI(title="omniroute WhatsApp Cloud API emulator", lifespan=lifespan)
    app.state.emulator = emulator

    @app.exception_handler(GraphError)
    async def graph_error(request: Request, error: GraphError) -> JSONResponse:
        return JSONResponse(error.body(), status_code=error.http_status)

    def authenticated(request: Request, access_token: str | None = Query(default=None)) -> None:
        emulator.authenticate(request.headers.get("authorization"), access_token)

    async def json_body(request: Request) -> Any:
        raw = await request.body()
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise invalid("The request body is not valid JSON.") from None

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

    # -- Graph API ---------------------------------------------------------------------

    def own(object_id: str, expected: str, method: str) -> None:
        if object_id != expected:
            raise unknown_object(method, object_id)

    @app.post("/{version}/{object_id}/messages", dependencies=[Depends(authenticated)])
    async def send(version: str, object_id: str, body: Any = Depends(json_body)) -> dict[str, Any]:
        graph_version(version)
        own(object_id, config.phone_number_id, "POST")
        return emulator.send(version, body)

    @app.api_route(
        "/{version}/{object_id}/message_templates",
        methods=["GET", "POST", "DELETE"],
        dependencies=[Depends(authenticated)],
    )
    async def message_templates(
        version: str, object_id: str, request: Request, body: Any = Depends(json_body)
    ) -> dict[str, Any]:
        graph_version(version)
        own(object_id, config.waba_id, request.method)
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
