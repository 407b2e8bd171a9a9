"""What each channel type's network can say about a message, as data.

WhatsApp, SMS, email and web chat do not share one lifecycle: only WhatsApp has the 24 h
customer service window; an SMS ends at ``delivered`` (the operator's delivery report), an
email at ``delivered`` (the receiving server accepted it), a WhatsApp or web chat message at
``read``. A failure speaks the channel's own vocabulary (Meta error codes, SMPP delivery
report states, SMTP reply codes), never another channel's.
"""

from dataclasses import dataclass
from typing import Any, Literal

from omniroute.policy import errors as meta_errors


@dataclass(frozen=True)
class DeliveryFailure:
    """How a message that cannot be delivered fails on one channel type."""

    code: str
    """omniroute's ``error.code`` on the message."""
    message: str
    provider_code: int | str
    """The network's own code: Meta's numeric code, the SMPP delivery report's ``stat``,
    the SMTP reply code."""

    def as_error(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "provider_code": self.provider_code}


@dataclass(frozen=True)
class ChannelSemantics:
    last_status: Literal["delivered", "read"]
    """The furthest status the network reports: nothing moves a message past it."""
    has_window: bool
    """Whether a customer service window limits free-form messages (WhatsApp's rule)."""
    undeliverable: DeliveryFailure


_WHATSAPP_UNDELIVERABLE = meta_errors.classify(meta_errors.UNDELIVERABLE)

CHANNEL_SEMANTICS: dict[str, ChannelSemantics] = {
    "whatsapp": ChannelSemantics(
        last_status="read",
        has_window=True,
        undeliverable=DeliveryFailure(
            _WHATSAPP_UNDELIVERABLE.our_code, _WHATSAPP_UNDELIVERABLE.meaning, meta_errors.UNDELIVERABLE
        ),
    ),
    "sms": ChannelSemantics(
        last_status="delivered",
        has_window=False,
        undeliverable=DeliveryFailure(
            "undeliverable",
            "The delivery report says UNDELIV: the handset could not be reached "
            "(switched off, out of coverage, or not a mobile number).",
            "UNDELIV",
        ),
    ),
    "email": ChannelSemantics(
        last_status="delivered",
        has_window=False,
        undeliverable=DeliveryFailure(
            "email_rejected",
            "550 5.1.1 The email account that you tried to reach does not exist.",
            550,
        ),
    ),
    "web": ChannelSemantics(
        last_status="read",
        has_window=False,
        undeliverable=DeliveryFailure(
            "undeliverable",
            "The visitor has left: no open chat and no push subscription to deliver to.",
            "visitor_unreachable",
        ),
    ),
}
"""Keyed by channel type (``ChannelType`` values)."""


def semantics_of(channel_type: str) -> ChannelSemantics:
    return CHANNEL_SEMANTICS[channel_type]
