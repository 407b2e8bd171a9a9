"""`omniroute emulator` starts the emulator from the command line."""

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from tests.conftest import _free_port, eventually
from tests.emulator.conftest import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, WABA_ID

OMNIROUTE = Path(sys.executable).parent / "omniroute"
GRAPH = {"Authorization": f"Bearer {ACCESS_TOKEN}"}


@asynccontextmanager
async def cli_emulator(*options: str) -> AsyncIterator[httpx.AsyncClient]:
    """Run `omniroute emulator` with ``options``; yields a client of it once it answers."""
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        str(OMNIROUTE),
        "emulator",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--phone-number-id",
        PHONE_NUMBER_ID,
        "--waba-id",
        WABA_ID,
        "--app-secret",
        APP_SECRET,
        "--access-token",
        ACCESS_TOKEN,
        "--webhook-url",
        "http://127.0.0.1:9/webhook",
        *options,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:

            async def health() -> httpx.Response | None:
                assert process.returncode is None, "the emulator exited"
                try:
                    return await client.get("/_emulator/health")
                except httpx.TransportError:
                    return None

            response = await eventually(health, lambda r: r is not None, timeout=30)
            assert response.json()["phone_number_id"] == PHONE_NUMBER_ID
            yield client
    finally:
        process.terminate()
        await process.wait()


async def test_the_cli_serves_the_emulator() -> None:
    async with cli_emulator("--throughput", "20") as client:
        number = await client.get(f"/v23.0/{PHONE_NUMBER_ID}", headers=GRAPH)
        assert number.json()["id"] == PHONE_NUMBER_ID
        assert number.json()["throughput"] == {"level": "STANDARD"}


async def test_the_cli_lifts_the_limits_and_counts_sends_for_benchmarks() -> None:
    async with cli_emulator("--unlimited", "--status-webhooks", "off") as client:
        number = await client.get(
            f"/v23.0/{PHONE_NUMBER_ID}", headers=GRAPH, params={"fields": "throughput,messaging_limit_tier"}
        )
        assert number.json()["throughput"] == {"level": "HIGH"}
        assert number.json()["messaging_limit_tier"] == "TIER_UNLIMITED"
        customer = "+2348012345678"
        await client.post("/_emulator/inbound", json={"from": customer, "text": "Hi"})
        for _ in range(3):
            send = await client.post(
                f"/v23.0/{PHONE_NUMBER_ID}/messages",
                headers=GRAPH,
                json={"messaging_product": "whatsapp", "to": customer, "text": {"body": "Hello"}},
            )
            assert send.status_code == 200, send.text
        stats = await client.get("/_emulator/stats")
        assert stats.json() == {"sends": 3, "distinct": 3, "duplicates": 0, "callback_data": 0}
