"""`omniroute emulator` starts the emulator from the command line."""

import asyncio
import sys
from pathlib import Path

import httpx
from tests.conftest import _free_port, eventually
from tests.emulator.conftest import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, WABA_ID

OMNIROUTE = Path(sys.executable).parent / "omniroute"


async def test_the_cli_serves_the_emulator() -> None:
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
        "--throughput",
        "20",
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
            number = await client.get(
                f"/v23.0/{PHONE_NUMBER_ID}", headers={"Authorization": f"Bearer {ACCESS_TOKEN}"}
            )
            assert number.json()["id"] == PHONE_NUMBER_ID
    finally:
        process.terminate()
        await process.wait()
