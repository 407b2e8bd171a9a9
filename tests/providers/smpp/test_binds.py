"""One SMPP bind per channel across worker processes: the lease row decides who binds."""

from collections.abc import AsyncIterator

import pytest

from omniroute.channels.models import ChannelType
from omniroute.config import Settings
from omniroute.core.db import Database
from omniroute.core.tenancy import Mode
from omniroute.providers.base import ChannelRef
from omniroute.providers.smpp.binds import SmppBinds
from omniroute.providers.smpp.session import Timing
from omniroute.providers.smpp.simulator import SmscSimulator
from tests.conftest import Tenant, eventually
from tests.providers.smpp.test_provider import smpp_config

FAST = Timing(reconnect_initial_seconds=0.05, reconnect_max_seconds=0.2, bind_wait_seconds=2.0)


@pytest.fixture
async def smsc() -> AsyncIterator[tuple[SmscSimulator, int]]:
    simulator = SmscSimulator()
    port = await simulator.start()
    yield simulator, port
    await simulator.stop()


async def test_only_the_lease_holder_binds_and_another_takes_over_when_it_stops(
    tenant: Tenant, db: Database, settings: Settings, smsc: tuple[SmscSimulator, int]
) -> None:
    simulator, port = smsc
    # A test-mode channel: the server's own worker binds live channels only, so the
    # two "processes" below are the only ones competing for this lease.
    created = await tenant.test.post(
        "/v1/channels",
        json={
            "type": "sms",
            "name": "SMPP",
            "provider": "smpp",
            "address": "ACME",
            "config": smpp_config(port),
        },
    )
    channel = created.json()
    ref = ChannelRef(
        channel["id"], tenant.workspace_id, Mode.TEST, ChannelType.SMS, "ACME", smpp_config(port), 10
    )
    first = SmppBinds(db, settings, FAST, lease_seconds=0.6)
    second = SmppBinds(db, settings, FAST, lease_seconds=0.6)
    try:
        assert await first.session_for(ref, 10) is not None
        assert await second.session_for(ref, 10) is None  # the non-owner does not bind
        await eventually(lambda: _value(simulator.binds), lambda n: n == 1)

        await first.close()  # a clean stop gives the lease up at once
        await eventually(lambda: second.session_for(ref, 10), lambda session: session is not None, timeout=5)
        await eventually(lambda: _value(simulator.binds), lambda n: n == 2)
        assert simulator.bound_clients == 1

        # A channel that is no longer active lets its bind go at the next renewal.
        await tenant.test.patch(f"/v1/channels/{channel['id']}", json={"status": "disabled"})
        await eventually(lambda: _value(simulator.bound_clients), lambda n: n == 0, timeout=5)
    finally:
        await first.close()
        await second.close()


async def _value(value: object) -> object:
    return value


async def test_keep_binds_the_channels_given_and_lets_the_others_go(
    tenant: Tenant, db: Database, settings: Settings, smsc: tuple[SmscSimulator, int]
) -> None:
    simulator, port = smsc
    created = await tenant.test.post(
        "/v1/channels",
        json={
            "type": "sms",
            "name": "SMPP",
            "provider": "smpp",
            "address": "ACME",
            "config": smpp_config(port),
        },
    )
    ref = ChannelRef(
        created.json()["id"], tenant.workspace_id, Mode.TEST, ChannelType.SMS, "ACME", smpp_config(port), 10
    )
    binds = SmppBinds(db, settings, FAST, lease_seconds=0.6)
    try:
        await binds.keep([ref])
        await eventually(lambda: _value(simulator.bound_clients), lambda n: n == 1)
        await binds.keep([])
        await eventually(lambda: _value(simulator.bound_clients), lambda n: n == 0)
    finally:
        await binds.close()
