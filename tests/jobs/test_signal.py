"""Cross-process wake-ups on PostgreSQL: a process that commits jobs notifies, and the
worker loops of every other process wake at once instead of at their next poll."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from omniroute.config import Settings
from omniroute.core.db import connect_postgres
from omniroute.jobs.signal import JobSignal


@pytest.fixture
async def signals(settings: Settings) -> AsyncIterator[tuple[JobSignal, JobSignal]]:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; processes on one SQLite file poll")
    sender, receiver = JobSignal(settings.database_url), JobSignal(settings.database_url)
    for signal in (sender, receiver):
        signal.start()
        await asyncio.wait_for(signal.connected.wait(), 5)
    yield sender, receiver
    for signal in (sender, receiver):
        await signal.stop()


async def wakes(signal: JobSignal) -> asyncio.Event:
    woken = asyncio.Event()
    signal.on_notified(woken.set)
    return woken


async def test_a_notification_wakes_the_loops_of_another_process(
    signals: tuple[JobSignal, JobSignal],
) -> None:
    sender, receiver = signals
    received, echoed = await wakes(receiver), await wakes(sender)

    sender.notify()

    await asyncio.wait_for(received.wait(), 2)
    await asyncio.sleep(0.1)
    assert not echoed.is_set(), "a process's own notification must not wake it a second time"


async def test_the_listener_reconnects_and_wakes_after_its_connection_is_killed(
    settings: Settings, signals: tuple[JobSignal, JobSignal]
) -> None:
    sender, receiver = signals
    admin = await connect_postgres(settings.database_url)
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query LIKE 'LISTEN%' AND datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()
    await asyncio.sleep(0.3)
    await asyncio.wait_for(receiver.connected.wait(), 5)
    received = await wakes(receiver)

    sender.notify()

    await asyncio.wait_for(received.wait(), 5)
