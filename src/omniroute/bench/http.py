"""Lean HTTP/1.1 over asyncio for the benchmark: a keep-alive client and a server that
cost far less than the gateway they measure (httpx tops out at a few hundred requests a
second on a small machine, so it would measure itself). Enough HTTP for loopback
traffic between known programs: Content-Length or chunked bodies, no pipelining."""

import asyncio
import json
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar, cast

T = TypeVar("T")

IDLE_CONNECTION_SECONDS = 2.0
"""An idle connection older than this is not reused: servers close theirs after a few
seconds (uvicorn after 5), and a request written into a closing connection is lost."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class HttpClient:
    """Requests to one ``host:port`` over at most ``connections`` kept-alive connections."""

    def __init__(self, host: str, port: int, connections: int = 64) -> None:
        self.host = host
        self.port = port
        self._slots = asyncio.Semaphore(connections)
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Response:
        """``body`` is sent as JSON unless it is already bytes."""
        payload = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Length: {len(payload)}\r\n"
        )
        if body is not None and not isinstance(body, bytes):
            head += "Content-Type: application/json\r\n"
        for name, value in (headers or {}).items():
            head += f"{name}: {value}\r\n"
        request = head.encode("latin-1") + b"\r\n" + payload
        async with self._slots:
            reader, writer = await self._connection()
            try:
                writer.write(request)
                response, keep_alive = await _read_response(reader)
            except BaseException:
                writer.close()
                raise
            if keep_alive:
                self._idle.append((reader, writer, time.monotonic()))
            else:
                writer.close()
            return response

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while self._idle:
            reader, writer, since = self._idle.pop()
            if time.monotonic() - since < IDLE_CONNECTION_SECONDS and not reader.at_eof():
                return reader, writer
            writer.close()
        return await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        for _, writer, _ in self._idle:
            writer.close()
        self._idle.clear()


async def _read_response(reader: asyncio.StreamReader) -> tuple[Response, bool]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status_line, *lines = head[:-4].split("\r\n")
    headers = _headers(lines)
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    keep_alive = headers.get("connection", "").lower() != "close"
    return Response(int(status_line.split(" ", 2)[1]), body), keep_alive


def _headers(lines: list[str]) -> dict[str, str]:
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    """The target without its query string."""
    query: str
    headers: dict[str, str]
    body: bytes


Handler = Callable[[Request], tuple[int, Any]]
"""Answers a request with a status and a JSON-serialisable body."""

REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}


class _ServerConnection(asyncio.Protocol):
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None and not self.transport.is_closing():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            request_line, *lines = self.buffer[:end].decode("latin-1").split("\r\n")
            headers = _headers(lines)
            length = int(headers.get("content-length", "0"))
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            method, target, _ = request_line.split(" ", 2)
            path, _, query = target.partition("?")
            status, answer = self.handler(Request(method, path, query, headers, body))
            payload = json.dumps(answer).encode()
            self.transport.write(
                f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n\r\n".encode("latin-1")
                + payload
            )
            if headers.get("connection", "").lower() == "close":
                self.transport.close()


async def serve(handler: Handler, host: str, port: int) -> asyncio.Server:
    """Listen on ``host:port``, answering every request with ``handler``."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: _ServerConnection(handler), host, port, backlog=1024)


def json_body(request: Request) -> Any:
    """The request's JSON body; None when it has none or it is not JSON."""
    try:
        return json.loads(request.body) if request.body else None
    except ValueError:
        return None


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on uvloop where it is installed: the measuring side must be cheap."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)
