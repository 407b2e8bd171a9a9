"""``omniroute smsc`` runs the simulator as its own process; an ESME binds and submits."""

import asyncio
import sys

from omniroute.providers.smpp.pdu import Status
from omniroute.providers.smpp.session import Credentials, SmppSession, tls_connector
from tests.conftest import eventually
from tests.providers.meta.live import closed_port
from tests.providers.smpp.test_session import FAST, submit_sm


async def test_the_smsc_command_answers_binds_submits_and_sends_receipts() -> None:
    port = closed_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "omniroute",
        "smsc",
        "--port",
        str(port),
        "--password",
        "pw",
        "--receipt-delay",
        "0",
        stderr=asyncio.subprocess.PIPE,
    )
    delivered: list[object] = []

    async def on_deliver(pdu: object) -> int:
        delivered.append(pdu)
        return Status.ROK

    session = SmppSession(
        tls_connector("127.0.0.1", port, None), Credentials("omniroute", "pw"), on_deliver, timing=FAST
    )
    runner = asyncio.create_task(session.run())
    try:
        assert process.stderr is not None
        assert b"SMSC simulator on" in await asyncio.wait_for(process.stderr.readline(), 10)
        response = await session.submit(submit_sm())
        assert response.status == Status.ROK and response["message_id"]
        await eventually(lambda: _value(delivered), lambda d: len(d) == 1)
    finally:
        await session.stop()
        runner.cancel()
        process.terminate()
        await process.wait()


async def _value(value: object) -> object:
    return value
