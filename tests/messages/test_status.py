"""Status ordering (messages/status.py): statuses come late, twice and out of order; a
message's status only moves forward and ``failed`` is final."""

import pytest

from omniroute.messages.models import MessageStatus as S
from omniroute.messages.status import should_apply

LIFECYCLE = [S.QUEUED, S.SENDING, S.SENT, S.DELIVERED, S.READ]


@pytest.mark.parametrize(
    ("current", "new"),
    [(a, b) for i, a in enumerate(LIFECYCLE) for b in LIFECYCLE[i + 1 :]],
)
def test_a_later_status_applies(current: S, new: S) -> None:
    assert should_apply(current, new)


@pytest.mark.parametrize(
    ("current", "new"),
    [(a, b) for i, a in enumerate(LIFECYCLE) for b in LIFECYCLE[: i + 1]],
)
def test_an_earlier_or_the_same_status_never_applies(current: S, new: S) -> None:
    assert not should_apply(current, new)


def test_late_delivered_after_read_changes_nothing() -> None:
    assert not should_apply(S.READ, S.DELIVERED)
    assert not should_apply(S.READ, S.SENT)


def test_read_may_arrive_before_delivered() -> None:
    assert should_apply(S.SENT, S.READ)
    assert should_apply(S.SENDING, S.READ)


def test_duplicate_status_changes_nothing() -> None:
    for status in LIFECYCLE:
        assert not should_apply(status, status)
    assert not should_apply(S.FAILED, S.FAILED)


@pytest.mark.parametrize("new", [*LIFECYCLE, S.FAILED, S.RECEIVED])
def test_failed_is_final(new: S) -> None:
    assert not should_apply(S.FAILED, new)


@pytest.mark.parametrize("current", [S.QUEUED, S.SENDING, S.SENT])
def test_failure_applies_before_delivery(current: S) -> None:
    assert should_apply(current, S.FAILED)


@pytest.mark.parametrize("current", [S.DELIVERED, S.READ])
def test_failure_reported_after_delivery_is_ignored(current: S) -> None:
    assert not should_apply(current, S.FAILED)


@pytest.mark.parametrize("new", [*LIFECYCLE, S.FAILED])
def test_inbound_received_messages_never_change_status(new: S) -> None:
    assert not should_apply(S.RECEIVED, new)


@pytest.mark.parametrize("current", LIFECYCLE)
def test_an_outbound_message_never_becomes_received(current: S) -> None:
    assert not should_apply(current, S.RECEIVED)


def test_nothing_moves_a_message_past_its_channels_last_status() -> None:
    assert not should_apply(S.DELIVERED, S.READ, last=S.DELIVERED)
    assert not should_apply(S.SENT, S.READ, last=S.DELIVERED)
    assert should_apply(S.SENT, S.DELIVERED, last=S.DELIVERED)
    assert should_apply(S.DELIVERED, S.READ, last=S.READ)
    assert should_apply(S.SENT, S.FAILED, last=S.DELIVERED)
