"""The simulation core: how the simulated network answers, as pure rules.

The sandbox provider plays these scripts through durable jobs on the workspace's
test clock. Magic recipients (any channel type) pick a scenario by their last digits;
each channel type plays it through its own lifecycle and failure vocabulary
(``policy/channels.py``).
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from omniroute.policy.channels import DeliveryFailure, semantics_of
from omniroute.policy.templates import LINT_REJECTION_REASONS, RejectionReason, TemplateStatus
from omniroute.templates.lint import PROMOTIONAL_CONTENT, lint


class Scenario(StrEnum):
    ORDINARY = "ordinary"  # the channel's whole lifecycle: sent, delivered (and read where it reads)
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
    return MAGIC_SUFFIXES.get(digits[-4:], Scenario.ORDINARY)


@dataclass(frozen=True)
class Step:
    """One simulated network event, ``after`` status intervals from the send."""

    after: int
    kind: str  # "status" or "reply"
    status: str | None = None
    failure: DeliveryFailure | None = None
    reply_text: str | None = None


def delivery_script(scenario: Scenario, channel_type: str) -> list[Step]:
    """What the network of ``channel_type`` reports for a message in ``scenario``."""
    semantics = semantics_of(channel_type)
    if scenario is Scenario.UNDELIVERABLE:
        return [Step(1, "status", "failed", failure=semantics.undeliverable)]
    sent_and_delivered = [Step(1, "status", "sent"), Step(2, "status", "delivered")]
    if scenario is Scenario.NEVER_READ:
        return sent_and_delivered
    if scenario is Scenario.REPLIES_STOP:
        return [*sent_and_delivered, Step(3, "reply", reply_text=OPT_OUT_REPLY)]
    if semantics.last_status == "read":
        return [*sent_and_delivered, Step(3, "status", "read")]
    return sent_and_delivered


@dataclass(frozen=True)
class Verdict:
    """Meta's review outcome: ``reason`` is a RejectionReason value when rejected."""

    status: TemplateStatus
    reason: str | None
    suggested_category: str | None = None
    explanation: str | None = None
    """The sentence behind a rejection (the first lint error, or the promotional sentence)."""


def review_template(template: dict[str, Any]) -> Verdict:
    """Meta's review as the sandbox plays it. What lint rejects is rejected, as
    INVALID_FORMAT or the more specific reason Meta gives for that rule (a wrong category
    is INCORRECT_CATEGORY); a UTILITY template with promotional sentences is rejected as
    PROMOTIONAL with MARKETING suggested; everything else is approved."""
    result = lint(template)
    errors = result.errors()
    if errors:
        reasons = [LINT_REJECTION_REASONS.get(issue.code) for issue in errors]
        reason = next((r for r in reasons if r is not None), RejectionReason.INVALID_FORMAT)
        return Verdict(TemplateStatus.REJECTED, reason.value, explanation=errors[0].message)
    if any(issue.code == PROMOTIONAL_CONTENT for issue in result.issues):
        return Verdict(
            TemplateStatus.REJECTED,
            RejectionReason.PROMOTIONAL.value,
            result.suggested_category,
            explanation=result.category_reason,
        )
    return Verdict(TemplateStatus.APPROVED, None)
