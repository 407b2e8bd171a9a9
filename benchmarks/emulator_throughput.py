"""Benchmark: how many requests per second `omniroute emulator` answers on one core.

Starts `omniroute emulator --unlimited` as a subprocess (uvicorn with uvloop and
httptools, one process) on loopback, with its webhooks going to a minimal HTTP sink in
this process, then drives it with a lean keep-alive client (raw asyncio, one connection
per concurrent request) and prints requests per second for:

- inbound injections: ``POST /_emulator/inbound``, one per customer (each opens that
  customer's window and makes the emulator send an inbound webhook);
- sends: ``POST /{version}/{phone_number_id}/messages``, text messages carrying
  ``biz_opaque_callback_data`` as omniroute does, round-robin over those customers.

Then it prints ``GET /_emulator/stats`` (every accepted send counted once) and, once no
more come, the webhooks the sink got (statuses, customer messages, bodies). Usage:

    .venv/bin/python benchmarks/emulator_throughput.py
    .venv/bin/python benchmarks/emulator_throughput.py --seconds 10 --concurrency 64 --status-webhooks off

Profile the emulator with py-spy (``.venv/bin/pip install py-spy``) while it runs:

    .venv/bin/py-spy record -o /tmp/emu.svg --subprocesses -- .venv/bin/python benchmarks/emulator_throughput.py
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import socket
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
ACCESS_TOKEN = "bench-token"
OMNIROUTE = Path(sys.executable).parent / "omniroute"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _request(method: str, path: str, body: bytes, headers: str = "") -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """Send one request on a keep-alive connection and read its whole response; returns
    the HTTP status."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def _drive(
    port: int, make_request: Callable[[int], bytes], concurrency: int, seconds: float, limit: int | None
) -> tuple[int, float, Counter[int]]:
    """Run ``concurrency`` keep-alive connections for ``seconds`` (or until ``limit``
    requests); returns the number of requests, the elapsed time and the status counts."""
    counter = itertools.count()
    statuses: Counter[int] = Counter()
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                index = next(counter)
                if limit is not None and index >= limit:
                    return
                statuses[await _exchange(reader, writer, make_request(index))] += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return sum(statuses.values()), elapsed, statuses


async def _webhook_sink() -> tuple[asyncio.Server, int, Counter[str]]:
    """A minimal keep-alive HTTP server that answers 200 to every POST and counts bodies."""
    received: Counter[str] = Counter()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = json.loads(await reader.readexactly(length))
                for entry in body["entry"]:
                    for change in entry["changes"]:
                        received["statuses"] += len(change["value"].get("statuses", []))
                        received["messages"] += len(change["value"].get("messages", []))
                received["posts"] += 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        writer.close()

    port = _port()
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    return server, port, received


async def _settled(webhooks: Counter[str], quiet: float) -> None:
    """Wait until no webhook has arrived for ``quiet`` seconds."""
    last, still = Counter(webhooks), 0.0
    while still < quiet:
        await asyncio.sleep(0.25)
        still = still + 0.25 if webhooks == last else 0.0
        last = Counter(webhooks)


async def _get_json(port: int, path: str) -> Any:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    body = await reader.readexactly(length)
    writer.close()
    return json.loads(body)


async def _run(args: argparse.Namespace) -> None:
    sink, sink_port, webhooks = await _webhook_sink()
    port = _port()
    emulator = await asyncio.create_subprocess_exec(
        str(OMNIROUTE),
        "emulator",
        "--port",
        str(port),
        "--phone-number-id",
        PHONE_NUMBER_ID,
        "--waba-id",
        WABA_ID,
        "--app-secret",
        "bench-secret",
        "--access-token",
        ACCESS_TOKEN,
        "--webhook-url",
        f"http://127.0.0.1:{sink_port}/webhook",
        "--unlimited",
        "--status-webhooks",
        args.status_webhooks,
        "--status-interval",
        str(args.status_interval),
    )
    print(f"emulator pid {emulator.pid} on port {port}", flush=True)
    try:
        for _ in range(200):
            try:
                await _get_json(port, "/_emulator/health")
                break
            except OSError:
                await asyncio.sleep(0.05)

        def inbound(index: int) -> bytes:
            body = json.dumps({"from": f"+234801{index:07d}", "text": "Hi"}).encode()
            return _request("POST", "/_emulator/inbound", body)

        customers, elapsed, statuses = await _drive(
            port, inbound, args.concurrency, args.seconds, args.customers
        )
        print(
            f"inbound injections: {customers / elapsed:,.0f} req/s ({customers} in {elapsed:.1f} s, {dict(statuses)})"
        )

        auth = f"Authorization: Bearer {ACCESS_TOKEN}\r\n"

        def send(index: int) -> bytes:
            body = json.dumps(
                {
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": f"+234801{index % customers:07d}",
                    "type": "text",
                    "text": {"body": "Your order has shipped."},
                    "biz_opaque_callback_data": f"msg_{index:012d}",
                },
                separators=(",", ":"),
            ).encode()
            return _request("POST", f"/v23.0/{PHONE_NUMBER_ID}/messages", body, auth)

        sends, elapsed, statuses = await _drive(port, send, args.concurrency, args.seconds, None)
        print(f"sends: {sends / elapsed:,.0f} req/s ({sends} in {elapsed:.1f} s, {dict(statuses)})")
        stats = await _get_json(port, "/_emulator/stats")
        print(f"emulator stats: {stats}")
        await _settled(webhooks, quiet=max(2.0, args.status_interval * 2))
        print(f"webhooks received (once no more came): {dict(webhooks)}")
    finally:
        emulator.terminate()
        await emulator.wait()
        sink.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each phase runs")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--customers", type=int, default=20000, help="at most this many inbound injections")
    parser.add_argument("--status-webhooks", choices=["on", "off"], default="on")
    parser.add_argument("--status-interval", type=float, default=1.0)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.run(_run(args))
    except ImportError:
        asyncio.run(_run(args))


if __name__ == "__main__":
    main()
