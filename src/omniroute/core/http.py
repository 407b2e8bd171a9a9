"""HTTP plumbing shared by every router.

- ``RequestContextMiddleware`` gives each request an id (``X-Request-Id``) and writes
  the request log after the response.
- ``TransactionalRoute`` owns the request's database session: the endpoint and its
  services only flush; the route commits once, together with the idempotency record,
  before the response leaves. Jobs written in that transaction start after the commit.
- Exception handlers render every error in the contract's shape; nothing is a bare 500.
"""

import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from omniroute.core.db import is_database_unavailable
from omniroute.core.errors import (
    APIError,
    ConflictError,
    InternalError,
    InvalidRequestError,
    NotFoundError,
    ServiceUnavailableError,
)
from omniroute.core.ids import new_id
from omniroute.core.text import refuse_unstorable_input, unreadable_body
from omniroute.core.time import clock_now
from omniroute.idempotency import service as idempotency

log = logging.getLogger(__name__)

DATABASE_RETRY_AFTER_SECONDS = 5
"""The ``Retry-After`` of a 503 while the database is unreachable (a restart takes seconds)."""


def request_id_of(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def error_response(
    request: Request, error: APIError, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        error.body(request_id_of(request)),
        status_code=error.status_code,
        headers={**error.headers, **(headers or {})} or None,
    )


class TransactionalRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint_handler = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await transactional_handler(request)
            except StarletteHTTPException:
                raise  # rendered by the app's handler
            except Exception as exc:  # the commit itself failed, or the database during a rollback
                return unexpected_error_response(request, exc)

        async def transactional_handler(request: Request) -> Response:
            services = request.app.state.services
            request.state.after_commit = []
            async with services.db.sessionmaker() as session:
                request.state.session = session
                try:
                    await refuse_unstorable_input(request, json_body=self.body_field is not None)
                    response = await endpoint_handler(request)
                except idempotency.IdempotentReplay as replay:
                    return replay.response()
                except APIError as error:
                    await session.rollback()
                    response = error_response(request, error)
                    await _remember_error(request, response)
                    return response
                except RequestValidationError as invalid:
                    await session.rollback()
                    return error_response(request, validation_error(invalid))
                except StarletteHTTPException:
                    await session.rollback()
                    raise  # rendered by the app's handler (e.g. an unreadable body), never a 500
                except IntegrityError as exc:  # a flush inside the endpoint lost a race
                    await session.rollback()
                    return await _resolve_race(request, getattr(request.state, "idempotency", None), exc)
                except ClientDisconnect:
                    # The caller hung up before its body arrived (a webhook sender timing
                    # out or shutting down): nothing was done and nobody reads the answer.
                    await session.rollback()
                    log.warning(
                        "client disconnected during %s %s; nothing done", request.method, request.url.path
                    )
                    return Response(status_code=400)
                except Exception as exc:
                    await session.rollback()
                    return unexpected_error_response(request, exc)
                except BaseException:
                    await session.rollback()
                    raise
                pending: idempotency.PendingKey | None = getattr(request.state, "idempotency", None)
                if pending is not None and response.status_code < 500:
                    idempotency.remember(session, pending, response)
                try:
                    await session.commit()
                except IntegrityError as exc:
                    await session.rollback()
                    return await _resolve_race(request, pending, exc)
            for callback in request.state.after_commit:
                callback()
            return response

        return handler


async def _remember_error(request: Request, response: Response) -> None:
    """A refused request's response is replayed too (same key, same answer)."""
    pending: idempotency.PendingKey | None = getattr(request.state, "idempotency", None)
    if pending is None:
        return
    try:
        async with request.app.state.services.db.transaction() as session:
            idempotency.remember(session, pending, response)
    except IntegrityError:
        log.info("idempotency key %s stored concurrently; keeping the first response", pending.key)
    except Exception as exc:
        if not is_database_unavailable(exc):
            raise
        log.warning("database unavailable: the refusal under key %s is not stored: %s", pending.key, exc)


async def _resolve_race(
    request: Request, pending: idempotency.PendingKey | None, exc: IntegrityError
) -> Response:
    """Two concurrent requests collided on a unique key. If it was the same idempotency
    key, the other one won and its work stands: replay its response."""
    if pending is not None:
        async with request.app.state.services.db.sessionmaker() as session:
            record = await idempotency.stored(session, pending)
        if record is not None:
            if record.request_hash == pending.request_hash:
                return idempotency.IdempotentReplay(record).response()
            return error_response(
                request,
                ConflictError(
                    "idempotency_conflict", "This Idempotency-Key was used with a different request."
                ),
            )
    log.info("concurrent write conflict: %s", exc.orig)
    return error_response(
        request,
        ConflictError(
            "concurrent_update", "Another request changed the same resource at the same time; retry."
        ),
    )


class RequestContextMiddleware:
    """Pure ASGI middleware: request id header, timing and the request log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_id("req")
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            auth = state.get("auth")
            if auth is not None:
                idempotency_key = dict(scope.get("headers", [])).get(b"idempotency-key", b"").decode()
                scope["app"].state.services.request_log.record(
                    {
                        "id": request_id,
                        "workspace_id": auth.workspace_id,
                        "mode": auth.mode.value,
                        "method": scope["method"],
                        "path": scope["path"][:500],
                        "status_code": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                        "key_prefix": auth.key_prefix,
                        "idempotency_key": idempotency_key[:255] or None,
                        "created_at": clock_now(auth.clock_offset_seconds, test_mode=auth.is_test),
                    }
                )


_MISSING_TYPES = {"missing"}


def _param(location: tuple[Any, ...]) -> str | None:
    """The field a validation error is about, as ``contacts[0].name.formatted_name``."""
    parts = list(location)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    param = ""
    for part in parts:
        param += f"[{part}]" if isinstance(part, int) else f".{part}" if param else str(part)
    return param or None


def validation_error(exc: RequestValidationError) -> APIError:
    first = exc.errors()[0]
    kind = first.get("type", "")
    loc = tuple(first.get("loc", ()))
    param = _param(loc)
    message = str(first.get("msg", "Invalid value."))
    if kind == "json_invalid":
        return InvalidRequestError(
            "invalid_json",
            "The request body is not valid JSON: " + str(first.get("ctx", {}).get("error", message)) + ".",
        )
    if kind in _MISSING_TYPES:
        return InvalidRequestError(
            "parameter_missing",
            f"'{param}' is required." if param else "A request body is required.",
            param=param,
        )
    ctx = first.get("ctx") or {}
    code = str(ctx.get("code", "parameter_invalid")) if isinstance(ctx, dict) else "parameter_invalid"
    if isinstance(ctx, dict) and "param" in ctx:
        param = str(ctx["param"])
    message = message.removeprefix("Value error, ")
    if param and message.startswith(param):
        return InvalidRequestError(code, message, param=param)
    return InvalidRequestError(code, f"{param}: {message}" if param else message, param=param)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> JSONResponse:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(request, validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            error: APIError = NotFoundError(
                "route_not_found", f"No route {request.method} {request.url.path}."
            )
        elif exc.status_code == 400:  # FastAPI could not read the body (e.g. not UTF-8)
            error = unreadable_body(exc.__cause__)
        elif exc.status_code == 405:
            allowed = allowed_methods(request)
            error = InvalidRequestError(
                "method_not_allowed",
                f"{request.method} is not allowed on {request.url.path}; use {allowed}.",
                status_code=405,
            )
            return error_response(request, error, {**(exc.headers or {}), "Allow": allowed})
        else:
            error = InvalidRequestError("http_error", str(exc.detail), status_code=exc.status_code)
        return error_response(request, error, exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return unexpected_error_response(request, exc)


def unexpected_error_response(request: Request, exc: Exception) -> JSONResponse:
    """An exception nothing expected: a 503 the client can retry while the database is
    unreachable (down, restarting, connection dropped, pool exhausted), otherwise a 500."""
    if is_database_unavailable(exc):
        log.warning("database unavailable during %s %s: %s", request.method, request.url.path, exc)
        return error_response(request, _database_unavailable())
    log.exception("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, _internal_error())


def _database_unavailable() -> APIError:
    return ServiceUnavailableError(
        "service_unavailable",
        f"The service cannot reach its database for the moment. Retry after {DATABASE_RETRY_AFTER_SECONDS} "
        "seconds; a retry with the same Idempotency-Key never does the work twice.",
        retry_after=DATABASE_RETRY_AFTER_SECONDS,
    )


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> str:
    """The ``Allow`` value for the request's path: every method some route accepts there.
    (Starlette's own 405 names only the first route on the path, and FastAPI makes one
    route per method.)"""
    routes = request.app.router.routes
    return ", ".join(
        method
        for method in HTTP_METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    )


def _internal_error() -> APIError:
    return InternalError(
        "internal_error", "Something went wrong on our side; nothing was changed. Retry the request."
    )


def api_router(**kwargs: Any) -> APIRouter:
    """A router whose routes run in one committed-once transaction per request."""
    return APIRouter(route_class=TransactionalRoute, **kwargs)
