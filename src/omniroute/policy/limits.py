"""Messaging tiers, throughput and pair rate (policy page section 4)."""

from datetime import timedelta
from enum import StrEnum


class MessagingTier(StrEnum):
    TIER_250 = "TIER_250"
    TIER_2K = "TIER_2K"
    TIER_10K = "TIER_10K"
    TIER_100K = "TIER_100K"
    TIER_UNLIMITED = "TIER_UNLIMITED"


TIER_LIMITS: dict[MessagingTier, int | None] = {
    MessagingTier.TIER_250: 250,
    MessagingTier.TIER_2K: 2_000,
    MessagingTier.TIER_10K: 10_000,
    MessagingTier.TIER_100K: 100_000,
    MessagingTier.TIER_UNLIMITED: None,
}
"""Unique customers a business may start conversations with in a rolling 24 h."""

MESSAGING_LIMIT_PERIOD = timedelta(hours=24)

DEFAULT_THROUGHPUT_PER_SECOND = 80
MAX_THROUGHPUT_PER_SECOND = 1_000
COEXISTENCE_THROUGHPUT_PER_SECOND = 20

THROUGHPUT_BY_LEVEL = {"STANDARD": DEFAULT_THROUGHPUT_PER_SECOND, "HIGH": MAX_THROUGHPUT_PER_SECOND}
"""Messages per second of a Cloud API number by the ``throughput.level`` Meta reports."""
THROUGHPUT_UPGRADE_EVENT = "THROUGHPUT_UPGRADE"
"""The ``phone_number_quality_update`` event of a number raised to the HIGH level."""

PAIR_RATE_INTERVAL = timedelta(seconds=6)
PAIR_RATE_BURST = 45


class QualityRating(StrEnum):
    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"
    UNKNOWN = "UNKNOWN"


def tier_limit(tier: str) -> int | None:
    return TIER_LIMITS[MessagingTier(tier)]


PRIORITY_LANE_SHARE = 0.1
"""The share of a channel's throughput kept for non-bulk sends (replies, one-time codes):
a running campaign never makes them wait for its slots."""
PACING_HEADROOM = 0.9
"""Slots are spaced for this share of the throughput: a send can only leave late, never
early (a busy event loop, a slow transaction), and late sends bunch; the headroom keeps
the bunches under the provider's limit in every one-second window."""
PACING_HORIZON_SECONDS = 0.1
"""A send whose slot is due within this long goes at once. A send is never held for its
slot after it was marked as being sent: a worker killed while holding it would leave its
outcome unknown (never resent, so lost). Sending up to this early keeps every one-second
window within (1 + horizon) x headroom (0.99) of the throughput."""
PACING_RESERVE_SECONDS = 2.0
"""A dispatch batch reserves the slots due within this long; the sends whose slot is later
than ``PACING_HORIZON_SECONDS`` wait for it unmarked (a worker killed meanwhile leaves
them queued, claimed again after the job lease) and are marked when it comes. Later
slots are not taken: those messages are rescheduled to about when theirs will come. Without
it a channel could send no faster than one horizon's slots per batch round trip."""
THROTTLED_SLOWDOWN = 0.5
"""A 130429 (throughput refused) halves the pace the channel is sent at ..."""
MIN_SLOWDOWN = 0.1
SLOWDOWN_RECOVERY_PER_SECOND = 0.05
"""... which recovers by this share of the full throughput per second."""
PAIR_PACING_INTERVAL_SECONDS = PAIR_RATE_INTERVAL.total_seconds() / PACING_HEADROOM
PAIR_PACING_BURST = int(PAIR_RATE_BURST * PACING_HEADROOM)
"""The pair rate sends are paced at: Meta's "about 1 message every 6 s to the same
customer, bursts up to about 45" (131056 over it) with the same headroom as throughput,
so sends to one customer never reach Meta's figure however late some of them leave."""
