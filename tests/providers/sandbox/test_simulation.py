"""The sandbox's simulated network as pure rules (providers/sandbox/simulation.py)."""

import pytest

from omniroute.channels.models import ChannelType
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
        ("+2348012345678", Scenario.ORDINARY),
        ("+2348012340004", Scenario.ORDINARY),
        ("+2348012300010", Scenario.ORDINARY),
        ("ada@example.com", Scenario.ORDINARY),
        ("0001@example.com", Scenario.UNDELIVERABLE),
        ("ada@0001.example.com", Scenario.ORDINARY),
    ],
)
def test_last_four_digits_pick_the_scenario(recipient: str, scenario: Scenario) -> None:
    assert scenario_for(recipient) is scenario


def statuses(script: list[Step]) -> list[str | None]:
    return [step.status for step in script if step.kind == "status"]


@pytest.mark.parametrize(
    ("channel_type", "lifecycle"),
    [
        (ChannelType.WHATSAPP, ["sent", "delivered", "read"]),
        (ChannelType.SMS, ["sent", "delivered"]),
        (ChannelType.EMAIL, ["sent", "delivered"]),
        (ChannelType.WEB, ["sent", "delivered", "read"]),
    ],
)
def test_an_ordinary_recipient_goes_through_its_channels_own_lifecycle(
    channel_type: ChannelType, lifecycle: list[str]
) -> None:
    script = delivery_script(Scenario.ORDINARY, channel_type)
    assert statuses(script) == lifecycle
    assert [step.after for step in script] == sorted(step.after for step in script)
    assert all(step.kind == "status" for step in script)


@pytest.mark.parametrize(
    ("channel_type", "code", "provider_code"),
    [
        (ChannelType.WHATSAPP, "undeliverable", 131026),
        (ChannelType.SMS, "undeliverable", "UNDELIV"),
        (ChannelType.EMAIL, "email_rejected", 550),
        (ChannelType.WEB, "undeliverable", "visitor_unreachable"),
    ],
)
def test_an_undeliverable_recipient_fails_in_its_channels_own_vocabulary_and_nothing_else(
    channel_type: ChannelType, code: str, provider_code: int | str
) -> None:
    [step] = delivery_script(Scenario.UNDELIVERABLE, channel_type)
    assert (step.kind, step.status) == ("status", "failed")
    assert step.failure is not None
    assert (step.failure.code, step.failure.provider_code) == (code, provider_code)
    assert step.failure.message


@pytest.mark.parametrize("channel_type", list(ChannelType))
def test_never_read_recipient_stops_at_delivered(channel_type: ChannelType) -> None:
    script = delivery_script(Scenario.NEVER_READ, channel_type)
    assert statuses(script) == ["sent", "delivered"]
    assert not any(step.kind == "reply" for step in script)


@pytest.mark.parametrize("channel_type", list(ChannelType))
def test_stop_replier_answers_stop_after_delivery(channel_type: ChannelType) -> None:
    script = delivery_script(Scenario.REPLIES_STOP, channel_type)
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
