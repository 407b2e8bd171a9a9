"""The pair rate (131056): sends to one customer from one number are paced ahead of the
provider, with the state in the database so every worker process shares it, and a
131056 the provider still returns reschedules the message instead of failing it."""

import asyncio
import time

import pytest
from sqlalchemy import select

from omniroute.channels.models import Channel
from omniroute.core.db import Database
from omniroute.messages import pacing
from omniroute.messages.models import PairPace, Priority
from omniroute.messages.pacing import Pacer, Slot
from omniroute.policy import errors as meta_errors
from omniroute.policy.limits import (
    PACING_HORIZON_SECONDS,
    PACING_RESERVE_SECONDS,
    PAIR_PACING_BURST,
    PAIR_PACING_INTERVAL_SECONDS,
    PAIR_RATE_BURST,
    PAIR_RATE_INTERVAL,
)
from omniroute.providers.base import OutboundMessage
from omniroute.providers.errors import ProviderRateLimited
from omniroute.providers.sandbox.provider import SandboxWhatsApp
from tests.campaigns.support import set_throughput
from tests.conftest import CUSTOMER, Tenant

OTHER_CUSTOMER = "+2348012345679"


def test_the_pair_rate_is_paced_under_metas_figures() -> None:
    assert PAIR_RATE_INTERVAL.total_seconds() < PAIR_PACING_INTERVAL_SECONDS
    assert 1 < PAIR_PACING_BURST < PAIR_RATE_BURST


async def take(db: Database, channel_id: str, recipients: list[str], now: float) -> list[Slot]:
    """One dispatch batch's slots for sends to ``recipients``, in its own transaction."""
    async with db.transaction() as session:
        channel = await session.get(Channel, channel_id)
        assert channel is not None
        pacer = Pacer(session)
        await pacer.lock([channel_id], {(channel_id, r) for r in recipients})
        slots = [pacer.take(channel, Priority.NORMAL, r, now) for r in recipients]
        await pacer.save()
        return slots


async def test_a_customer_gets_a_burst_then_one_send_per_interval_whichever_process_sends(
    tenant: Tenant, db: Database
) -> None:
    await set_throughput(tenant, 1000)  # the throughput is never what holds a send here
    now = time.time()
    first = await take(db, tenant.whatsapp, [CUSTOMER] * (PAIR_PACING_BURST + 1) + [OTHER_CUSTOMER], now)
    assert all(slot.at is not None for slot in first[:PAIR_PACING_BURST])
    held = first[PAIR_PACING_BURST]
    assert held.at is None
    assert held.retry_in == pytest.approx(PAIR_PACING_INTERVAL_SECONDS - PACING_RESERVE_SECONDS / 2)
    assert first[-1].at is not None, "another customer is not held"

    # Another batch (another worker process): the burst is spent; the next send waits for
    # one interval, and goes once it has passed.
    [again] = await take(db, tenant.whatsapp, [CUSTOMER], now + 1.0)
    assert again.at is None and again.retry_in == pytest.approx(held.retry_in - 1.0)
    [later] = await take(db, tenant.whatsapp, [CUSTOMER], now + PAIR_PACING_INTERVAL_SECONDS)
    assert later.at is not None


async def test_two_processes_racing_for_one_pair_never_both_send_beyond_it(
    concurrent_writers: None, tenant: Tenant, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pacing, "PAIR_PACING_BURST", 1)
    now = time.time()
    results = await asyncio.gather(*(take(db, tenant.whatsapp, [CUSTOMER], now) for _ in range(4)))
    assert sum(1 for [slot] in results if slot.at is not None) == 1


async def test_sends_to_one_customer_reach_the_network_at_the_pair_rate(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pacing, "PAIR_PACING_BURST", 2)
    monkeypatch.setattr(pacing, "PAIR_PACING_INTERVAL_SECONDS", 1.0)
    arrived: list[float] = []
    check = SandboxWhatsApp._check_limits

    def recorded(self: SandboxWhatsApp, message: OutboundMessage) -> None:
        arrived.append(time.monotonic())
        check(self, message)

    monkeypatch.setattr(SandboxWhatsApp, "_check_limits", recorded)
    await tenant.inbound()
    ids = []
    start = time.monotonic()
    for n in range(4):
        response = await tenant.send(text={"body": f"Update {n} on your order"})
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    for message_id in ids:
        await tenant.wait_for(message_id, "read", within=10)
    assert len(arrived) == 4, "none was refused by the network and sent again"
    # The burst of two may go at once; each later send waits one more interval from the
    # first one's slot (which is no earlier than its acceptance), less the horizon a
    # batch may send early by. (A send may leave late, never early.)
    assert arrived[2] - start >= 1.0 - PACING_HORIZON_SECONDS
    assert arrived[3] - start >= 2.0 - PACING_HORIZON_SECONDS


async def test_a_pair_rate_refusal_reschedules_the_message_and_holds_the_pair(
    tenant: Tenant, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused: list[str] = []
    check = SandboxWhatsApp._check_limits

    def refuse_once(self: SandboxWhatsApp, message: OutboundMessage) -> None:
        if message.message_id not in refused:
            refused.append(message.message_id)
            raise ProviderRateLimited(
                "pair rate limit hit",
                code="pair_rate_limited",
                provider_code=meta_errors.PAIR_RATE_LIMIT,
                retry_after=0.5,
            )
        check(self, message)

    monkeypatch.setattr(SandboxWhatsApp, "_check_limits", refuse_once)
    await tenant.inbound()
    before = time.time()
    response = await tenant.send(text={"body": "Your order has shipped"})
    assert response.status_code == 202, response.text
    message = await tenant.wait_for(response.json()["id"], "read", within=10)
    assert "failed" not in [change["status"] for change in message["status_history"]]
    assert refused == [message["id"]]
    async with db.sessionmaker() as session:
        next_at = await session.scalar(
            select(PairPace.next_at).where(
                PairPace.channel_id == tenant.whatsapp, PairPace.recipient == CUSTOMER
            )
        )
    # Used up at the refusal: the next send waits for the provider's 0.5 s, every later
    # one for its interval.
    assert next_at is not None
    assert next_at >= before + 0.5 + (PAIR_PACING_BURST - 1) * PAIR_PACING_INTERVAL_SECONDS


async def test_spent_pairs_are_forgotten_and_live_ones_kept(tenant: Tenant, db: Database) -> None:
    async with db.transaction() as session:
        await pacing.record_pairs(
            session,
            {
                (tenant.whatsapp, CUSTOMER): time.time() - 1,
                (tenant.whatsapp, OTHER_CUSTOMER): time.time() + 60,
            },
        )
    async with db.transaction() as session:
        await pacing.forget_spent_pairs(session)
    async with db.sessionmaker() as session:
        kept = await session.scalars(select(PairPace.recipient).where(PairPace.channel_id == tenant.whatsapp))
        assert list(kept) == [OTHER_CUSTOMER]
