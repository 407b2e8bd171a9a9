"""The visitor API's limits slide: a burst that straddles a minute boundary is counted
whole, and a refused visitor may go on once its oldest request is a window old."""

import pytest

from omniroute.core.errors import RateLimitError
from omniroute.webchat import guard
from omniroute.webchat.guard import Limit, RateLimiter


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [59.5]  # half a second before a minute boundary
    monkeypatch.setattr(guard.time, "monotonic", lambda: now[0])
    return now


def test_a_burst_across_a_minute_boundary_is_counted_whole(clock: list[float]) -> None:
    limiter, limit = RateLimiter(), Limit(30, 60)
    for _ in range(30):
        limiter.hit("visitor", limit)
        clock[0] += 0.05  # 1.5 s in all: the burst crosses 60.0
    with pytest.raises(RateLimitError) as refused:
        limiter.hit("visitor", limit)
    assert refused.value.details["retry_after"] == 59  # the first request leaves the window in 58.5 s


def test_the_oldest_request_leaving_the_window_lets_one_more_through(clock: list[float]) -> None:
    limiter, limit = RateLimiter(), Limit(2, 10)
    limiter.hit("visitor", limit)
    clock[0] += 5
    limiter.hit("visitor", limit)
    with pytest.raises(RateLimitError):
        limiter.hit("visitor", limit)
    clock[0] += 5  # the first is now 10 s old
    limiter.hit("visitor", limit)
    with pytest.raises(RateLimitError):
        limiter.hit("visitor", limit)
    limiter.hit("another visitor", limit)
