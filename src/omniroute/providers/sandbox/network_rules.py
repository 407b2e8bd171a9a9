"""Network-side rules the simulated WhatsApp network enforces on a send, beside the
delivery scripts of ``simulation``: throughput, the pair rate limit and the template
parameter check. Pure and clock-explicit (callers pass a monotonic ``now`` in
seconds), so the emulator and tests drive them with any clock."""

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from omniroute.policy import errors as meta_errors
from omniroute.policy.limits import DEFAULT_THROUGHPUT_PER_SECOND, PAIR_RATE_BURST, PAIR_RATE_INTERVAL
from omniroute.templates.variables import expected_variables


@dataclass
class ThroughputLimiter:
    """At most ``per_second`` messages from one business number in any rolling second."""

    per_second: int
    _sent: deque[float] = field(default_factory=deque)

    def allow(self, now: float) -> bool:
        while self._sent and now - self._sent[0] >= 1.0:
            self._sent.popleft()
        if len(self._sent) >= self.per_second:
            return False
        self._sent.append(now)
        return True


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class PairRateLimiter:
    """One message per ``PAIR_RATE_INTERVAL`` to the same customer, with bursts of up to
    ``PAIR_RATE_BURST`` borrowed from later allowance (a token bucket per customer)."""

    burst: int = PAIR_RATE_BURST
    interval_seconds: float = PAIR_RATE_INTERVAL.total_seconds()
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def allow(self, recipient: str, now: float) -> bool:
        bucket = self._buckets.setdefault(recipient, _Bucket(float(self.burst), now))
        refilled = (now - bucket.updated) / self.interval_seconds
        bucket.tokens = min(float(self.burst), bucket.tokens + refilled)
        bucket.updated = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True


class SendLimits:
    """Both limits of one business phone number: a send passes throughput first, then the
    pair rate (a send the pair rate refuses has still used its throughput slot)."""

    def __init__(self, throughput: int = DEFAULT_THROUGHPUT_PER_SECOND) -> None:
        self.throughput = ThroughputLimiter(throughput)
        self.pair_rate = PairRateLimiter()

    def refusal(self, recipient: str, now: float) -> int | None:
        """Meta's error code for a send refused now (130429 or 131056), or None if it may go."""
        if not self.throughput.allow(now):
            return meta_errors.THROUGHPUT_LIMIT
        if not self.pair_rate.allow(recipient, now):
            return meta_errors.PAIR_RATE_LIMIT
        return None

    @staticmethod
    def retry_after(code: int) -> float:
        """Seconds until a send refused with ``code`` can pass again."""
        return PAIR_RATE_INTERVAL.total_seconds() if code == meta_errors.PAIR_RATE_LIMIT else 1.0


def _send_component(components: list[dict[str, Any]], kind: str, index: int | None = None) -> dict[str, Any]:
    for component in components:
        if str(component.get("type", "")).lower() != kind:
            continue
        if index is None or str(component.get("index")) == str(index):
            return component
    return {}


def template_parameter_problem(
    definition_components: list[dict[str, Any]], send_components: list[dict[str, Any]]
) -> str | None:
    """Why a template send's parameters do not fit the approved template (Meta's 132000),
    or None. Counts header, body and per-button parameters against the variables the
    approved components define; a template with named variables also needs each text
    parameter's ``parameter_name`` to be one of them."""
    expected = expected_variables(definition_components)
    header_expected = 1 if expected["header_media"] else len(expected["header"])
    counts = [
        ("header", header_expected, _send_component(send_components, "header")),
        ("body", len(expected["body"]), _send_component(send_components, "body")),
    ]
    for button in expected["buttons"]:
        counts.append(
            (
                f"button at index {button['index']}",
                1,
                _send_component(send_components, "button", button["index"]),
            )
        )
    for name, wanted, component in counts:
        got = len(component.get("parameters") or [])
        if got != wanted:
            return (
                f"{name}: number of localizable_params ({got}) does not match "
                f"the expected number of params ({wanted})"
            )
    if expected["format"] == "named":
        for name in ("header", "body"):
            given = [
                p.get("parameter_name") for p in _send_component(send_components, name).get("parameters", [])
            ]
            if given and sorted(map(str, given)) != sorted(expected[name]):
                return f"{name}: parameter names {given} do not match the template's {expected[name]}"
    return None
