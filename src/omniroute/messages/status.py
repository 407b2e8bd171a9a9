"""Status ordering. Providers report statuses late, twice and out of order (``read``
before ``delivered``); a message's status only ever moves forward and ``failed`` is final.
How far it can go depends on the channel type (``policy/channels.py``): an SMS or an email
ends at ``delivered``, a WhatsApp or web chat message at ``read``."""

from omniroute.messages.models import MessageStatus

_PROGRESS = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.READ: 4,
}

FAILABLE = frozenset({MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.SENT})
"""A failure report after delivery contradicts the delivery and is ignored."""


def should_apply(
    current: MessageStatus, new: MessageStatus, *, last: MessageStatus = MessageStatus.READ
) -> bool:
    """Whether a reported ``new`` status moves a message that is at ``current``, on a
    channel whose messages go no further than ``last``."""
    if current in (MessageStatus.FAILED, MessageStatus.RECEIVED) or new is MessageStatus.RECEIVED:
        return False
    if new is MessageStatus.FAILED:
        return current in FAILABLE
    return _PROGRESS[current] < _PROGRESS[new] <= _PROGRESS[last]
