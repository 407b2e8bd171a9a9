"""The customer service window (policy page section 1)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)
"""A customer's message lets the business send anything for 24 h after its timestamp."""

FREE_ENTRY_POINT_DURATION = timedelta(hours=72)
"""Ad / Page call-to-action entry: everything sent in the next 72 h is free."""

FREE_ENTRY_POINT_REPLY_DEADLINE = timedelta(hours=24)
"""The business must answer within 24 h of the ad-originated message to unlock it."""


class WindowState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class Window:
    state: WindowState
    last_inbound_at: datetime | None
    expires_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.state is WindowState.OPEN


def window_at(last_inbound_at: datetime | None, now: datetime) -> Window:
    """The window as it stands at ``now``, derived only from the customer's own
    message timestamp (never from when a webhook arrived)."""
    if last_inbound_at is None:
        return Window(WindowState.CLOSED, None, None)
    expires_at = last_inbound_at + CUSTOMER_SERVICE_WINDOW
    state = WindowState.OPEN if now < expires_at else WindowState.CLOSED
    return Window(state, last_inbound_at, expires_at)


def refreshed_last_inbound(current: datetime | None, incoming: datetime) -> datetime:
    """Webhooks arrive late and out of order: only a newer customer message moves the window."""
    return incoming if current is None or incoming > current else current
