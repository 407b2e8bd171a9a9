"""Where another feature follows the messages it sent, without messages knowing it.

- A status follower is called (in the transaction that makes the change) each time a
  message's status moves, failures included, whichever path moved it (dispatch, a
  provider's webhook, the sandbox). One-time codes move to their next channel this way.
- A revealer completes what is handed to the provider at dispatch, in memory only: the
  stored message keeps what may be shown (a one-time code's message is stored redacted).

Features register at import (like job handlers); each hook looks at the message and
returns at once when it is not one of its own."""

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.messages.models import Message
from omniroute.providers.base import OutboundMessage

StatusFollower = Callable[[AsyncSession, Message, datetime], None]
Revealer = Callable[[AsyncSession, Message, OutboundMessage], Awaitable[OutboundMessage]]

_followers: list[StatusFollower] = []
_revealers: list[Revealer] = []


def follow_status(follower: StatusFollower) -> StatusFollower:
    _followers.append(follower)
    return follower


def reveal_outbound(revealer: Revealer) -> Revealer:
    _revealers.append(revealer)
    return revealer


def status_changed(session: AsyncSession, message: Message, at: datetime) -> None:
    for follower in _followers:
        follower(session, message, at)


async def outbound(session: AsyncSession, message: Message, prepared: OutboundMessage) -> OutboundMessage:
    for revealer in _revealers:
        prepared = await revealer(session, message, prepared)
    return prepared
