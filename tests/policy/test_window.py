"""The customer service window as pure rules (policy/window.py)."""

from datetime import UTC, datetime, timedelta, timezone

from omniroute.policy.window import (
    CUSTOMER_SERVICE_WINDOW,
    WindowState,
    refreshed_last_inbound,
    window_at,
)

WROTE = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def test_the_window_lasts_24_hours() -> None:
    assert timedelta(hours=24) == CUSTOMER_SERVICE_WINDOW


def test_no_customer_message_means_closed_with_no_times() -> None:
    window = window_at(None, WROTE)
    assert window.state is WindowState.CLOSED
    assert not window.is_open
    assert (window.last_inbound_at, window.expires_at) == (None, None)


def test_open_right_after_the_customer_writes() -> None:
    window = window_at(WROTE, WROTE)
    assert window.is_open
    assert window.last_inbound_at == WROTE
    assert window.expires_at == WROTE + timedelta(hours=24)


def test_open_until_the_last_instant_before_24_hours() -> None:
    assert window_at(WROTE, WROTE + timedelta(hours=24) - TICK).is_open


def test_closed_at_exactly_24_hours() -> None:
    window = window_at(WROTE, WROTE + timedelta(hours=24))
    assert window.state is WindowState.CLOSED
    assert window.expires_at == WROTE + timedelta(hours=24)
    assert window.last_inbound_at == WROTE


def test_closed_long_after_keeps_when_it_expired() -> None:
    window = window_at(WROTE, WROTE + timedelta(days=30))
    assert not window.is_open
    assert window.expires_at == WROTE + timedelta(hours=24)


def test_expiry_is_measured_from_the_customers_message_not_from_now() -> None:
    assert window_at(WROTE, WROTE + timedelta(hours=5)).expires_at == window_at(WROTE, WROTE).expires_at


def test_first_customer_message_sets_the_last_inbound_time() -> None:
    assert refreshed_last_inbound(None, WROTE) == WROTE


def test_newer_customer_message_moves_the_window_forward() -> None:
    assert refreshed_last_inbound(WROTE, WROTE + TICK) == WROTE + TICK


def test_older_customer_message_never_moves_the_window_backwards() -> None:
    assert refreshed_last_inbound(WROTE, WROTE - timedelta(hours=3)) == WROTE


def test_duplicate_customer_message_changes_nothing() -> None:
    assert refreshed_last_inbound(WROTE, WROTE) == WROTE


def test_message_at_the_exact_expiry_reopens_for_another_24_hours() -> None:
    expiry = WROTE + timedelta(hours=24)
    latest = refreshed_last_inbound(WROTE, expiry)
    assert latest == expiry
    assert window_at(latest, expiry).is_open
    assert window_at(latest, expiry).expires_at == WROTE + timedelta(hours=48)


def test_late_message_from_inside_the_old_window_does_not_reopen_it() -> None:
    now = WROTE + timedelta(hours=30)
    latest = refreshed_last_inbound(WROTE, WROTE - timedelta(hours=1))
    assert not window_at(latest, now).is_open


def test_window_compares_instants_across_time_zones() -> None:
    lagos = WROTE.astimezone(timezone(timedelta(hours=1)))
    assert refreshed_last_inbound(WROTE, lagos) == WROTE
    assert window_at(lagos, WROTE + timedelta(hours=24)).state is WindowState.CLOSED
