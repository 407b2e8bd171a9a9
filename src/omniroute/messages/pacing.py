"""Pacing shared by every send: each channel's throughput, kept in the database so any
number of dispatchers together stay within it.

A channel's row in ``channel_paces`` holds the next free send slot of two buckets, in
epoch seconds: the bulk and normal lanes share ``1 - PRIORITY_LANE_SHARE`` of the
throughput, and ``PRIORITY_LANE_SHARE`` is kept for non-bulk sends, which take whichever
bucket has the earlier slot (a one-time code never waits behind a campaign's slots).
Slots of a bucket are ``1 / rate`` apart (a generic cell rate with no burst), so no
second holds more sends than the throughput. A dispatch batch locks the rows of its
channels in its prepare transaction and takes the slots due within
``PACING_RESERVE_SECONDS``: those due within ``PACING_HORIZON_SECONDS`` go at once, the
others wait for their slot before they are marked as being sent (a send marked is never
held, see ``policy.limits``); the rest are rescheduled, without a slot, to about when
theirs will come.

A provider's throughput refusal (130429) multiplies the pace by ``THROTTLED_SLOWDOWN``;
it recovers by ``SLOWDOWN_RECOVERY_PER_SECOND`` of the full throughput each second.

WhatsApp also limits sends to one customer from one number (the pair rate, 131056 over
it). ``pair_paces`` holds, per (channel, recipient), when the pair's allowance is used up
to (a generic cell rate: one send per ``PAIR_PACING_INTERVAL_SECONDS``, bursts of
``PAIR_PACING_BURST``). The batch reads its pairs' rows in one query under the channel
locks it already holds (so no two processes take the same pair's allowance), a send
whose pair is not free within the horizon is rescheduled to when it is (taking no
throughput slot), and the batch writes the pairs it used in one upsert. A 131056 from the
provider marks the pair's allowance as used up.
"""

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.channels.models import Channel, ChannelType
from omniroute.core.upsert import insert_all_absent
from omniroute.messages.models import ChannelPace, PairPace, Priority
from omniroute.policy.limits import (
    MIN_SLOWDOWN,
    PACING_HEADROOM,
    PACING_RESERVE_SECONDS,
    PAIR_PACING_BURST,
    PAIR_PACING_INTERVAL_SECONDS,
    PRIORITY_LANE_SHARE,
    SLOWDOWN_RECOVERY_PER_SECOND,
    THROTTLED_SLOWDOWN,
)

Pair = tuple[str, str]
"""(channel id, recipient)."""


def slowdown_at(pace: ChannelPace | None, now: float) -> float:
    """The fraction of the throughput in use at ``now`` (recovering since the last slow-down)."""
    if pace is None:
        return 1.0
    return min(1.0, pace.slowdown + max(0.0, now - pace.slowed_at) * SLOWDOWN_RECOVERY_PER_SECOND)


async def effective_throughput(session: AsyncSession, channel: Channel) -> float:
    """Messages per second the channel is sent at now."""
    pace = await session.get(ChannelPace, channel.id)
    return channel.throughput_per_second * PACING_HEADROOM * slowdown_at(pace, time.time())


@dataclass(frozen=True)
class Slot:
    """When to send (epoch seconds), or, if ``at`` is None, how long to wait before
    trying again."""

    at: float | None
    retry_in: float = 0.0


class Pacer:
    """The slots of one dispatch batch, taken in its prepare transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.paces: dict[str, ChannelPace] = {}
        self._deferred: dict[str, int] = {}
        self.pairs: dict[Pair, float] = {}
        """Each pair's ``next_at`` (absent: never used, or its allowance is whole again)."""
        self._pairs_used: set[Pair] = set()

    async def lock(self, channel_ids: Iterable[str], pairs: Iterable[Pair] = ()) -> None:
        """Lock the channels' pace rows (created on first use), in id order, then read the
        pair rate state of ``pairs`` (the channel locks guard it)."""
        ids = sorted(set(channel_ids))
        if not ids:
            return
        await insert_all_absent(
            self.session,
            ChannelPace,
            [
                {
                    "channel_id": i,
                    "next_slot_at": 0.0,
                    "next_priority_slot_at": 0.0,
                    "slowdown": 1.0,
                    "slowed_at": 0.0,
                }
                for i in ids
            ],
        )
        rows = await self.session.scalars(
            select(ChannelPace)
            .where(ChannelPace.channel_id.in_(ids))
            .order_by(ChannelPace.channel_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        self.paces = {row.channel_id: row for row in rows}
        wanted = set(pairs)
        if wanted:
            found = await self.session.execute(
                select(PairPace.channel_id, PairPace.recipient, PairPace.next_at).where(
                    PairPace.channel_id.in_({channel for channel, _ in wanted}),
                    PairPace.recipient.in_({recipient for _, recipient in wanted}),
                )
            )
            self.pairs = {(c, r): at for c, r, at in found if (c, r) in wanted}

    def take(self, channel: Channel, priority: str, recipient: str, now: float | None = None) -> Slot:
        now = time.time() if now is None else now
        pair = (channel.id, recipient)
        if channel.type == ChannelType.WHATSAPP:
            pair_free_at = self.pairs.get(pair, 0.0) - (PAIR_PACING_BURST - 1) * PAIR_PACING_INTERVAL_SECONDS
            if pair_free_at > now + PACING_RESERVE_SECONDS:
                # Not before the pair rate allows: no throughput slot is taken meanwhile.
                return Slot(None, retry_in=pair_free_at - now - PACING_RESERVE_SECONDS / 2)
            now = max(now, pair_free_at)
        slot = self._take_throughput(channel, priority, now)
        if slot.at is not None and channel.type == ChannelType.WHATSAPP:
            self.pairs[pair] = max(slot.at, self.pairs.get(pair, 0.0)) + PAIR_PACING_INTERVAL_SECONDS
            self._pairs_used.add(pair)
        return slot

    async def save(self) -> None:
        """Write the pair rate state the batch used, in one statement."""
        if self._pairs_used:
            await record_pairs(self.session, {pair: self.pairs[pair] for pair in self._pairs_used})

    def _take_throughput(self, channel: Channel, priority: str, now: float) -> Slot:
        pace = self.paces[channel.id]
        rate = max(channel.throughput_per_second * PACING_HEADROOM * slowdown_at(pace, now), 1e-3)
        shared_rate, priority_rate = rate * (1 - PRIORITY_LANE_SHARE), rate * PRIORITY_LANE_SHARE
        shared = max(now, pace.next_slot_at)
        if priority != Priority.BULK:
            reserved = max(now, pace.next_priority_slot_at)
            if reserved < shared and reserved <= now + PACING_RESERVE_SECONDS:
                pace.next_priority_slot_at = reserved + 1 / priority_rate
                return Slot(reserved)
        if shared <= now + PACING_RESERVE_SECONDS:
            pace.next_slot_at = shared + 1 / shared_rate
            return Slot(shared)
        # Later than the horizon: no slot taken; come back about when it will be free,
        # the deferred ones of this batch one slot apart.
        waiting = self._deferred.get(channel.id, 0)
        self._deferred[channel.id] = waiting + 1
        return Slot(None, retry_in=shared - now - PACING_RESERVE_SECONDS / 2 + waiting / shared_rate)


async def record_pairs(session: AsyncSession, next_at: dict[Pair, float]) -> None:
    """Move these pairs' ``next_at`` forward (never back: a 131056 recorded meanwhile
    stays), in one upsert."""
    postgres = session.get_bind().dialect.name == "postgresql"
    statement = (postgresql if postgres else sqlite).insert(PairPace)
    later = (func.greatest if postgres else func.max)(PairPace.next_at, statement.excluded.next_at)
    await session.execute(
        statement.values(
            [{"channel_id": c, "recipient": r, "next_at": at} for (c, r), at in sorted(next_at.items())]
        ).on_conflict_do_update(index_elements=["channel_id", "recipient"], set_={"next_at": later})
    )


async def pair_refused(session: AsyncSession, channel_id: str, recipient: str, retry_after: float) -> None:
    """The provider refused a send for the pair rate (131056): the pair's allowance is used
    up; its next send waits for ``retry_after`` and every later one for its interval."""
    used_up = time.time() + retry_after + (PAIR_PACING_BURST - 1) * PAIR_PACING_INTERVAL_SECONDS
    await record_pairs(session, {(channel_id, recipient): used_up})


async def forget_spent_pairs(session: AsyncSession) -> None:
    """Delete the pair rows whose allowance is whole again (they say nothing no row does)."""
    await session.execute(delete(PairPace).where(PairPace.next_at < time.time()))


async def slow_down(session: AsyncSession, channel_id: str, retry_after: float | None) -> None:
    """A provider refused a send for throughput (130429): halve the channel's pace, and
    hold its next slots back by the provider's wait."""
    now = time.time()
    pace = await session.scalar(
        select(ChannelPace)
        .where(ChannelPace.channel_id == channel_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if pace is None or now - pace.slowed_at < 1.0:
        return  # one slow-down per second, however many sends of a batch were refused
    pace.slowdown = max(MIN_SLOWDOWN, slowdown_at(pace, now) * THROTTLED_SLOWDOWN)
    pace.slowed_at = now
    held_until = now + (retry_after or 0.0)
    pace.next_slot_at = max(pace.next_slot_at, held_until)


SEND_WINDOW_SECONDS = 1.1
"""A little over a second: a send admitted here reaches the provider a moment later."""


class SendWindow:
    """This process's sends per channel in the last second: a send woken late (a busy
    event loop) must not bunch with the ones after it past the limit, so it waits here
    until the rolling second has room. The shared slots keep the processes' sum."""

    def __init__(self) -> None:
        self._sent: dict[str, deque[float]] = defaultdict(deque)

    async def admit(self, channel_id: str, per_second: int) -> None:
        sent = self._sent[channel_id]
        while True:
            now = time.monotonic()
            while sent and now - sent[0] >= SEND_WINDOW_SECONDS:
                sent.popleft()
            if len(sent) < per_second:
                sent.append(now)
                return
            await asyncio.sleep(sent[0] + SEND_WINDOW_SECONDS - now)


send_window = SendWindow()
