"""Benchmark: how many requests per second an HTTP client can send from one process.

Each client POSTs a small JSON body (a WhatsApp text send) to a minimal keep-alive
HTTP/1.1 sink on loopback, run in a subprocess of its own, at each concurrency (that
many requests in flight, over as many pooled connections), and the completed requests
per second are printed. The clients:

- ``httpx``: ``httpx.AsyncClient`` (what omniroute used before);
- ``aiohttp``: a plain ``aiohttp.ClientSession``;
- ``omniroute``: the gateway's own outbound session (``core.outbound.OutboundHttp``
  as the Graph API adapter builds it: the outbound-target guard on every connection,
  2 s keep-alive expiry, the connection limit);
- ``raw asyncio``: one asyncio stream per connection writing a prepared request and
  reading the answer, the ceiling this sink and this machine allow.

Usage (about 30 s with the defaults):

    .venv/bin/python benchmarks/http_clients.py
    .venv/bin/python benchmarks/http_clients.py --seconds 5 --concurrency 64 256 1024
"""

import argparse
import asyncio
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable

import aiohttp
import httpx

from omniroute.config import Settings
from omniroute.providers.meta.provider import graph_http

BODY = {
    "messaging_product": "whatsapp",
    "recipient_type": "individual",
    "to": "+2348012345678",
    "type": "text",
    "text": {"body": "Your order has shipped."},
    "biz_opaque_callback_data": "msg_01J0000000000000000000000",
}
ANSWER = json.dumps({"messages": [{"id": "wamid.HBgLMjM0ODAxMjM0NTY3OBUCABEYEjQ"}]}).encode()
RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
    + f"content-length: {len(ANSWER)}\r\n\r\n".encode()
    + ANSWER
)
WARMUP_SECONDS = 0.5

Send = Callable[[], Awaitable[None]]


def content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


class Sink(asyncio.Protocol):
    """Reads requests framed by Content-Length and answers each at once: keep-alive,
    pipelining-safe, nothing else."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (head_end := self.buffer.find(b"\r\n\r\n")) >= 0:
            end = head_end + 4 + content_length(bytes(self.buffer[:head_end]))
            if len(self.buffer) < end:
                return
            del self.buffer[:end]
            self.transport.write(RESPONSE)


async def serve_sink() -> None:
    """The subprocess: listen on a free loopback port, print it, serve until stdin closes."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Sink, "127.0.0.1", 0, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


async def measure(senders: list[Send], seconds: float) -> float:
    """Run every sender in a loop of its own; requests completed per second after a
    warm-up (connections opened, caches filled)."""
    loop = asyncio.get_running_loop()
    window_start = loop.time() + WARMUP_SECONDS
    window_end = window_start + seconds
    completed = 0

    async def loop_sending(send: Send) -> None:
        nonlocal completed
        while loop.time() < window_end:
            await send()
            if window_start <= loop.time() <= window_end:
                completed += 1

    await asyncio.gather(*(loop_sending(send) for send in senders))
    return completed / seconds


async def with_httpx(url: str, concurrency: int, seconds: float) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def send() -> None:
            response = await client.post(url, json=BODY)
            assert response.status_code == 200 and response.json()["messages"]

        return await measure([send] * concurrency, seconds)


async def with_aiohttp(url: str, concurrency: int, seconds: float) -> float:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def send() -> None:
            async with session.post(url, json=BODY) as response:
                assert response.status == 200 and json.loads(await response.read())["messages"]

        return await measure([send] * concurrency, seconds)


async def with_omniroute(url: str, concurrency: int, seconds: float) -> float:
    loopback = Settings(allow_private_targets=True, provider_max_connections=concurrency)
    async with graph_http(loopback) as http:

        async def send() -> None:
            async with http.request("POST", url, json=BODY) as response:
                assert response.status == 200 and json.loads(await response.read())["messages"]

        return await measure([send] * concurrency, seconds)


async def with_raw_asyncio(url: str, concurrency: int, seconds: float) -> float:
    host, port = url.removeprefix("http://").split("/", 1)[0].split(":")
    connections = [await asyncio.open_connection(host, int(port)) for _ in range(concurrency)]

    def sender(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Send:
        async def send() -> None:
            body = json.dumps(BODY).encode()
            writer.write(
                f"POST /v23.0/1/messages HTTP/1.1\r\nhost: {host}:{port}\r\n"
                f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n".encode()
                + body
            )
            head = await reader.readuntil(b"\r\n\r\n")
            answer = await reader.readexactly(content_length(head[:-4]))
            assert head.startswith(b"HTTP/1.1 200") and json.loads(answer)["messages"]

        return send

    try:
        return await measure([sender(reader, writer) for reader, writer in connections], seconds)
    finally:
        for _, writer in connections:
            writer.close()


CLIENTS = {
    "httpx": with_httpx,
    "aiohttp": with_aiohttp,
    "omniroute": with_omniroute,
    "raw asyncio": with_raw_asyncio,
}


async def run(url: str, args: argparse.Namespace) -> None:
    print(f"{'client':<12}" + "".join(f"{f'c={c} (req/s)':>16}" for c in args.concurrency))
    for name in args.clients:
        figures = [await CLIENTS[name](url, concurrency, args.seconds) for concurrency in args.concurrency]
        print(f"{name:<12}" + "".join(f"{rate:>16,.0f}" for rate in figures), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--seconds", type=float, default=3.0, help="measured seconds per client and concurrency"
    )
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--clients", nargs="+", choices=list(CLIENTS), default=list(CLIENTS))
    parser.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        asyncio.run(serve_sink())
        return
    with subprocess.Popen(
        [sys.executable, __file__, "--sink"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as sink:
        assert sink.stdin is not None and sink.stdout is not None
        port = int(sink.stdout.readline())
        try:
            asyncio.run(run(f"http://127.0.0.1:{port}/v23.0/1/messages", args))
        finally:
            sink.stdin.close()  # the sink stops when its stdin closes


if __name__ == "__main__":
    main()
