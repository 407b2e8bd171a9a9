"""The simulation core: how the simulated network answers, as pure rules.

The sandbox provider plays these scripts through durable jobs on the workspace's
test clock. Magic recipients (any channel type) pick a scenario by their last digits.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from omniroute.policy import errors as meta_errors
from omniroute.policy.templates import RejectionReason, TemplateStatus
from omniroute.templates.lint import lint


class Scenario(StrEnum):
    DELIVERED_AND_READ = "delivered_and_read"
    UNDELIVERABLE = "undeliverable"  # ...0001
    NEVER_READ = "never_read"  # ...0002
    REPLIES_STOP = "replies_stop"  # ...0003


MAGIC_SUFFIXES = {
    "0001": Scenario.UNDELIVERABLE,
    "0002": Scenario.NEVER_READ,
    "0003": Scenario.REPLIES_STOP,
}

OPT_OUT_REPLY = "STOP"


def scenario_for(recipient: str) -> Scenario:
    local_part = recipient.split("@", 1)[0]
    digits = "".join(ch for ch in local_part if ch.isdigit())
    return MAGIC_SUFFIXES.get(digits[-4:], Scenario.DELIVERED_AND_READ)


@dataclass(frozen=True)
class Step:
    """One simulated network event, ``after`` status intervals from the send."""

    after: int
    kind: str  # "status" or "reply"
    status: str | None = None
    error_code: int | None = None
    reply_text: str | None = None


def delivery_script(scenario: Scenario) -> list[Step]:
    if scenario is Scenario.UNDELIVERABLE:
        return [Step(1, "status", "failed", error_code=meta_errors.UNDELIVERABLE)]
    sent_and_delivered = [Step(1, "status", "sent"), Step(2, "status", "delivered")]
    if scenario is Scenario.NEVER_READ:
        return sent_and_delivered
    if scenario is Scenario.REPLIES_STOP:
        return [*sent_and_delivered, Step(3, "reply", reply_text=OPT_OUT_REPLY)]
    return [*sent_and_delivered, Step(3, "status", "read")]


@dataclass(frozen=True)
class Verdict:
    status: TemplateStatus
    reason: str | None
    suggested_category: str | None = None


def review_template(template: dict[str, Any]) -> Verdict:
    """Meta's review as the sandbox plays it: what lint rejects is rejected as
    INVALID_FORMAT; everything else is approved."""
    result = lint(template)
    if result.valid:
        return Verdict(TemplateStatus.APPROVED, None)
    first = result.errors()[0]
    return Verdict(TemplateStatus.REJECTED, f"{RejectionReason.INVALID_FORMAT.value}: {first.message}")
