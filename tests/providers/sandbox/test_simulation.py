"""The sandbox's simulated network as pure rules (providers/sandbox/simulation.py)."""

import pytest

from omniroute.policy.templates import TemplateStatus
from omniroute.providers.sandbox.simulation import (
    Scenario,
    Step,
    delivery_script,
    review_template,
    scenario_for,
)
from tests.conftest import POSITIONAL_BODY


@pytest.mark.parametrize(
    ("recipient", "scenario"),
    [
        ("+2348012340001", Scenario.UNDELIVERABLE),
        ("+2348012340002", Scenario.NEVER_READ),
        ("+2348012340003", Scenario.REPLIES_STOP),
        ("+1 555 010 0001", Scenario.UNDELIVERABLE),
        ("+44-20-7946-0003", Scenario.REPLIES_STOP),
        ("test0002@example.com", Scenario.NEVER_READ),
        ("+2348012345678", Scenario.DELIVERED_AND_READ),
        ("+2348012340004", Scenario.DELIVERED_AND_READ),
        ("+2348012300010", Scenario.DELIVERED_AND_READ),
        ("ada@example.com", Scenario.DELIVERED_AND_READ),
        ("0001@example.com", Scenario.UNDELIVERABLE),
        ("ada@0001.example.com", Scenario.DELIVERED_AND_READ),
    ],
)
def test_last_four_digits_pick_the_scenario(recipient: str, scenario: Scenario) -> None:
    assert scenario_for(recipient) is scenario


def statuses(script: list[Step]) -> list[str | None]:
    return [step.status for step in script if step.kind == "status"]


def test_ordinary_recipient_is_sent_delivered_then_read() -> None:
    script = delivery_script(Scenario.DELIVERED_AND_READ)
    assert statuses(script) == ["sent", "delivered", "read"]
    assert [step.after for step in script] == sorted(step.after for step in script)
    assert all(step.kind == "status" for step in script)


def test_undeliverable_recipient_fails_with_131026_and_nothing_else() -> None:
    [step] = delivery_script(Scenario.UNDELIVERABLE)
    assert (step.kind, step.status, step.error_code) == ("status", "failed", 131026)


def test_never_read_recipient_stops_at_delivered() -> None:
    script = delivery_script(Scenario.NEVER_READ)
    assert statuses(script) == ["sent", "delivered"]
    assert not any(step.kind == "reply" for step in script)


def test_stop_replier_answers_stop_after_delivery() -> None:
    script = delivery_script(Scenario.REPLIES_STOP)
    assert statuses(script) == ["sent", "delivered"]
    reply = script[-1]
    assert (reply.kind, reply.reply_text) == ("reply", "STOP")
    delivered = next(step for step in script if step.status == "delivered")
    assert reply.after > delivered.after


def test_review_approves_a_lint_clean_template() -> None:
    verdict = review_template(
        {"name": "ok", "language": "en", "category": "UTILITY", "components": [POSITIONAL_BODY]}
    )
    assert (verdict.status, verdict.reason) == (TemplateStatus.APPROVED, None)


def test_review_rejects_what_lint_rejects_as_invalid_format() -> None:
    verdict = review_template(
        {"name": "Bad", "language": "en", "category": "UTILITY", "components": [POSITIONAL_BODY]}
    )
    assert verdict.status is TemplateStatus.REJECTED
    assert verdict.reason is not None and verdict.reason.startswith("INVALID_FORMAT")
