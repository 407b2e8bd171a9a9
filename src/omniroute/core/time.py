"""UTC time helpers and the per-workspace test clock.

Test-mode data lives on a clock that runs at real speed plus an offset the
workspace can advance (``POST /v1/sandbox/clock/advance``); live mode uses real time.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


def clock_now(test_clock_offset_seconds: float, *, test_mode: bool) -> datetime:
    """The current time as seen by one workspace mode."""
    now = utcnow()
    return now + timedelta(seconds=test_clock_offset_seconds) if test_mode else now


def rfc3339(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC everywhere (SQLite has no time zones) and returns aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)
