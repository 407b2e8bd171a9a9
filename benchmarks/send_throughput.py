"""Benchmark: how fast one omniroute process accepts and dispatches messages.

Starts a real server (uvicorn + in-process workers) on a fresh database, opens the
window for N customers, posts N session messages with C concurrent clients, and
prints the acceptance rate (202s per second) and the dispatch rate (messages handed
to the sandbox provider per second). Usage:

    .venv/bin/python benchmarks/send_throughput.py --messages 2000 --concurrency 32
    .venv/bin/python benchmarks/send_throughput.py --database-url postgresql+asyncpg://postgres@127.0.0.1/omniroute_bench
"""

import argparse
import asyncio
import socket
import tempfile
import time
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import func, select

from omniroute.app import create_app
from omniroute.config import Settings
from omniroute.core.db import Database
from omniroute.core.tenancy import Mode
from omniroute.messages.models import Message
from omniroute.migrations.runner import upgrade
from omniroute.workspaces import service as workspaces


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _run(args: argparse.Namespace) -> None:
    url = args.database_url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    await asyncio.to_thread(upgrade, url)
    settings = Settings(
        database_url=url,
        sandbox_status_interval=3600,  # keep simulated statuses out of the measurement
        worker_poll_interval=0.05,
        worker_concurrency=args.worker_concurrency,
    )
    port = _port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.05)
    db = Database(url)
    async with db.transaction() as session:
        workspace = await workspaces.create_workspace(session, "benchmark")
        key = await workspaces.create_api_key(session, workspace, Mode.TEST)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as client:
        channels = (await client.get("/v1/channels", params={"type": "whatsapp"})).json()["data"]
        channel = channels[0]["id"]
        numbers = [f"+234801{index:07d}" for index in range(10, 10 + args.messages)]
        semaphore = asyncio.Semaphore(args.concurrency)

        async def post(path: str, body: dict[str, object]) -> None:
            async with semaphore:
                response = await client.post(path, json=body)
                if response.status_code not in (201, 202):
                    raise RuntimeError(response.text)

        await asyncio.gather(
            *(
                post("/v1/sandbox/inbound", {"channel_id": channel, "from": n, "text": {"body": "hi"}})
                for n in numbers
            )
        )
        started = time.perf_counter()
        await asyncio.gather(
            *(
                post("/v1/messages", {"channel_id": channel, "to": n, "text": {"body": "Hello"}})
                for n in numbers
            )
        )
        accepted_in = time.perf_counter() - started
        while True:
            async with db.sessionmaker() as session:
                handed = await session.scalar(
                    select(func.count()).where(
                        Message.workspace_id == workspace.id,
                        Message.provider_message_id.is_not(None),
                        Message.direction == "outbound",
                    )
                )
            if handed == args.messages:
                break
            await asyncio.sleep(0.05)
        dispatched_in = time.perf_counter() - started
    server.should_exit = True
    await serving
    await db.dispose()
    backend = url.split(":", 1)[0]
    print(f"database            {backend}")
    print(
        f"messages            {args.messages} (concurrency {args.concurrency}, worker concurrency {args.worker_concurrency})"
    )
    print(f"accepted (202)      {args.messages / accepted_in:8.1f} msg/s  ({accepted_in:.2f} s)")
    print(
        f"handed to provider  {args.messages / dispatched_in:8.1f} msg/s  ({dispatched_in:.2f} s from first POST)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--worker-concurrency", type=int, default=16)
    parser.add_argument("--database-url", default=None)
    asyncio.run(_run(parser.parse_args()))


if __name__ == "__main__":
    main()
