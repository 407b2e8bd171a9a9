"""Pacing shared by every send: each channel's throughput, kept in the database so any
number of dispatchers together stay within it.

A channel's row in ``channel_paces`` holds the next free send slot of two buckets, in
epoch seconds: the bulk and normal lanes share ``1 - PRIORITY_LANE_SHARE`` of the
throughput, and ``PRIORITY_LANE_SHARE`` is kept for non-bulk sends, which take whichever
bucket has the earlier slot (a one-time code never waits behind a campaign's slots).
Slots of a bucket are ``1 / rate`` apart (a generic cell rate with no burst), so no
second holds more sends than the throughput. A dispatch batch locks the rows of its
channels in its prepare transaction, takes the slots due within ``PACING_HORIZON_SECONDS``
(those sends go at once: a send marked as being sent is never held, see
``policy.limits``) and reschedules the rest, without a slot, to about when theirs will
come.

A provider's throughput refusal (130429) multiplies the pace by ``THROTTLED_SLOWDOWN``;
it recovers by ``SLOWDOWN_RECOVERY_PER_SECOND`` of the full throughput each second.
"""

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.channels.models import Channel
from omniroute.core.upsert import insert_all_absent
from omniroute.messages.models import ChannelPace, Priority
from omniroute.policy.limits import (
    MIN_SLOWDOWN,
    PACING_HEADROOM,
    PACING_HORIZON_SECONDS,
    PRIORITY_LANE_SHARE,
    SLOWDOWN_RECOVERY_PER_SECOND,
    THROTTLED_SLOWDOWN,
)


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

    async def lock(self, channel_ids: Iterable[str]) -> None:
        """Lock the channels' pace rows (created on first use), in id order."""
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

    def take(self, channel: Channel, priority: str, now: float | None = None) -> Slot:
        now = time.time() if now is None else now
        pace = self.paces[channel.id]
        rate = max(channel.throughput_per_second * PACING_HEADROOM * slowdown_at(pace, now), 1e-3)
        shared_rate, priority_rate = rate * (1 - PRIORITY_LANE_SHARE), rate * PRIORITY_LANE_SHARE
        shared = max(now, pace.next_slot_at)
        if priority != Priority.BULK:
            reserved = max(now, pace.next_priority_slot_at)
            if reserved < shared and reserved <= now + PACING_HORIZON_SECONDS:
                pace.next_priority_slot_at = reserved + 1 / priority_rate
                return Slot(reserved)
        if shared <= now + PACING_HORIZON_SECONDS:
            pace.next_slot_at = shared + 1 / shared_rate
            return Slot(shared)
        # Later than the horizon: no slot taken; come back about when it will be free,
        # the deferred ones of this batch one slot apart.
        waiting = self._deferred.get(channel.id, 0)
        self._deferred[channel.id] = waiting + 1
        return Slot(None, retry_in=shared - now - PACING_HORIZON_SECONDS / 2 + waiting / shared_rate)


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
