"""The ESME session against the SMSC simulator, over real TCP on loopback."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from omniroute.providers.smpp.pdu import Command, Pdu, Status, Tag, parse_receipt_text
from omniroute.providers.smpp.session import (
    Credentials,
    NotSent,
    SmppSession,
    Timing,
    Unanswered,
    tls_connector,
)
from omniroute.providers.smpp.simulator import SimulatorOptions, SmscSimulator
from tests.conftest import eventually

FAST = Timing(
    enquire_link_interval=0.2,
    response_timeout=2.0,
    connect_timeout=2.0,
    reconnect_initial_seconds=0.05,
    reconnect_max_seconds=0.2,
    bind_wait_seconds=2.0,
)


def submit_sm(to: str = "2348012345678", text: bytes = b"Hello", receipt: int = 1) -> Pdu:
    return Pdu(
        Command.SUBMIT_SM,
        0,
        params={
            "source_addr_ton": 5,
            "source_addr": "ACME",
            "dest_addr_ton": 1,
            "dest_addr_npi": 1,
            "destination_addr": to,
            "registered_delivery": receipt,
            "short_message": text,
        },
    )


@asynccontextmanager
async def running(
    options: SimulatorOptions | None = None,
    *,
    password: str = "secret",
    window: int = 10,
    throughput: float = 1000.0,
    timing: Timing = FAST,
    on_deliver: Callable[[Pdu], int] | None = None,
) -> AsyncIterator[tuple[SmscSimulator, SmppSession, list[Pdu]]]:
    smsc = SmscSimulator(options)
    port = await smsc.start()
    delivered: list[Pdu] = []

    async def deliver(pdu: Pdu) -> int:
        delivered.append(pdu)
        return on_deliver(pdu) if on_deliver else Status.ROK

    session = SmppSession(
        tls_connector("127.0.0.1", port, None),
        Credentials("omniroute", password),
        deliver,
        window=window,
        throughput_per_second=throughput,
        timing=timing,
    )
    task = asyncio.create_task(session.run())
    try:
        yield smsc, session, delivered
    finally:
        await session.stop()
        task.cancel()
        await smsc.stop()


async def test_binds_submits_and_receives_the_receipt() -> None:
    async with running() as (smsc, session, delivered):
        response = await session.submit(submit_sm())
        assert response.command is Command.SUBMIT_SM_RESP and response.status == Status.ROK
        assert smsc.binds == 1 and len(smsc.submits) == 1
        assert response["message_id"] == smsc.submits[0].message_id
        [receipt] = await eventually(lambda: _value(delivered), lambda d: len(d) == 1)
        assert receipt["esm_class"] == 0x04
        assert receipt.tlv_str(Tag.RECEIPTED_MESSAGE_ID) == response["message_id"]
        fields = parse_receipt_text(receipt["short_message"].decode())
        assert fields["id"] == response["message_id"] and fields["stat"] == "DELIVRD"
        # The ESME acknowledged it once stored.
        await eventually(lambda: _value(smsc.delivered_acks), lambda acks: len(acks) == 1)


async def test_a_receipt_can_overtake_the_submit_response() -> None:
    async with running(SimulatorOptions(receipts_before_response=True)) as (_smsc, session, delivered):
        response = await session.submit(submit_sm())
        assert len(delivered) == 1  # read before the response it preceded
        assert delivered[0].tlv_str(Tag.RECEIPTED_MESSAGE_ID) == response["message_id"]


async def test_a_refused_handler_is_answered_with_an_error_so_the_smsc_resends() -> None:
    async with running(on_deliver=lambda pdu: Status.RSYSERR) as (smsc, session, _):
        await session.submit(submit_sm())
        [ack] = await eventually(lambda: _value(smsc.delivered_acks), lambda acks: len(acks) == 1)
        assert ack.status == Status.RSYSERR


async def test_wrong_password_is_a_refused_bind_and_nothing_is_sent() -> None:
    async with running(password="wrong") as (smsc, session, _):
        with pytest.raises(NotSent):
            await session.submit(submit_sm())
        assert smsc.refused_binds >= 1 and not smsc.submits
        assert session.bind_refused is not None and session.bind_refused.status == Status.RINVPASWD


async def test_enquire_link_keeps_the_session_alive() -> None:
    async with running() as (smsc, _session, _):
        await eventually(lambda: _value(smsc.enquire_links), lambda n: n >= 3)
        assert smsc.binds == 1  # never reconnected


async def test_an_unanswered_enquire_link_drops_and_rebinds() -> None:
    async with running(SimulatorOptions(enquire_link_answers=False)) as (smsc, _session, _):
        await eventually(lambda: _value(smsc.binds), lambda n: n >= 2, timeout=8)


async def test_throttled_submits_are_answered_with_the_status() -> None:
    async with running(SimulatorOptions(throttle_every=2)) as (smsc, session, _):
        first = await session.submit(submit_sm())
        second = await session.submit(submit_sm())
        assert first.status == Status.ROK and second.status == Status.RTHROTTLED
        assert len(smsc.submits) == 1


async def test_a_dropped_connection_leaves_the_in_flight_submit_unanswered_and_reconnects() -> None:
    async with running(SimulatorOptions(drop_after_submits=2)) as (smsc, session, _):
        await session.submit(submit_sm())
        with pytest.raises(Unanswered):
            await session.submit(submit_sm())  # the SMSC read it, then the line dropped
        third = await session.submit(submit_sm())  # waits for the re-bind
        assert third.status == Status.ROK
        assert smsc.binds == 2
        assert len(smsc.submits) == 3


async def test_the_window_bounds_outstanding_submits() -> None:
    async with running(SimulatorOptions(response_delay=0.05), window=3) as (smsc, session, _):
        responses = await asyncio.gather(*(session.submit(submit_sm()) for _ in range(12)))
        assert all(r.status == Status.ROK for r in responses) and len(smsc.submits) == 12
        assert smsc.max_outstanding == 3


async def test_pacing_spreads_submits_at_the_throughput() -> None:
    async with running(throughput=50) as (_smsc, session, _):
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.gather(*(session.submit(submit_sm()) for _ in range(11)))
        assert loop.time() - started >= 0.19  # 10 intervals of 20 ms after the first


async def test_mobile_originated_messages_reach_the_handler() -> None:
    async with running() as (smsc, _session, delivered):
        await eventually(lambda: _value(smsc.bound_clients), lambda n: n == 1)
        await smsc.send_mo("2348012345678", "ACME", b"STOP")
        [mo] = await eventually(lambda: _value(delivered), lambda d: len(d) == 1)
        assert mo["esm_class"] == 0 and mo["short_message"] == b"STOP"


async def _value(value: object) -> object:
    return value


async def test_a_stopped_session_can_run_again() -> None:
    async with running() as (smsc, session, _):
        await session.submit(submit_sm())
        await session.stop()
        await eventually(lambda: _value(session.bound), lambda bound: not bound)
        rerun = asyncio.create_task(session.run())  # the lease was lost, then taken back
        try:
            assert (await session.submit(submit_sm())).status == Status.ROK
            assert smsc.binds == 2
        finally:
            await session.stop()
            rerun.cancel()
