"""How a business message reaches a visitor (the ``widget`` provider's send, and the
sandbox's for real visitors of a test-mode web channel):

- an open widget (a fresh ``webchat_streams`` row, in any API process): a notification
  wakes its stream, which writes the message and marks it ``delivered``;
- otherwise each of the visitor's Web Push subscriptions gets an encrypted notification
  (live mode only: test mode never calls a push service); an endpoint that answers
  404/410 is removed; 429/5xx from every endpoint is retried by the dispatcher;
- nobody to reach: the message waits in the conversation and the widget shows it (and
  acknowledges it, ``delivered``) on the visitor's next visit.

The route taken is the ``sent`` status's ``detail``: ``stream``, ``push``, ``stored``
(or ``push_simulated`` for a notification in test mode)."""

import asyncio
import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp
from sqlalchemy import delete, func, select

from omniroute.config import Settings
from omniroute.core.db import Database
from omniroute.core.outbound import OutboundHttp
from omniroute.core.secrets import keyring
from omniroute.core.targets import TargetRefused
from omniroute.core.time import utcnow
from omniroute.providers.base import ChannelRef, OutboundMessage, SendReceipt
from omniroute.providers.errors import ProviderRejected, ProviderTransientError
from omniroute.providers.widget.config import VAPID_PRIVATE_KEY
from omniroute.providers.widget.webpush import Subscription, push_request
from omniroute.webchat.broker import Broker
from omniroute.webchat.guard import RateLimiter
from omniroute.webchat.models import PushSubscription, Visitor, VisitorStream

log = logging.getLogger(__name__)

STREAM = "stream"
PUSH = "push"
STORED = "stored"
PUSH_SIMULATED = "push_simulated"
PUSH_TIMEOUT = aiohttp.ClientTimeout(total=10)
GONE = (404, 410)
PREVIEW_LENGTH = 180


@dataclass(frozen=True)
class WebChatContext:
    db: Database
    settings: Settings
    broker: Broker
    push_http: OutboundHttp
    """Live mode's push service session: every connection passes the outbound-target policy."""
    limits: RateLimiter = field(default_factory=RateLimiter)
    """The visitor API's rate limits, counted in this process."""


def push_http_session(settings: Settings) -> OutboundHttp:
    return OutboundHttp(max_connections=64, timeout=PUSH_TIMEOUT, guarded_by=settings)


async def is_visitor(db: Database, channel_id: str, recipient: str) -> bool:
    async with db.sessionmaker() as session:
        found = await session.scalar(
            select(Visitor.id).where(Visitor.id == recipient, Visitor.channel_id == channel_id)
        )
    return found is not None


def preview(message: OutboundMessage) -> str:
    """A notification's text for a reply."""
    content = message.content or {}
    if message.content_type == "text":
        text = str(content.get("body", ""))
    elif message.content_type == "image":
        text = str(content.get("caption") or "Sent you an image")
    elif message.content_type == "interactive":
        text = str((content.get("body") or {}).get("text") or "Sent you a message")
    else:
        text = "Sent you a message"
    return text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1] + "…"


def notification(channel: ChannelRef, message: OutboundMessage) -> dict[str, Any]:
    """What the service worker shows: a ``push`` message's own title, body and url, or a
    reply's preview under the chat's title."""
    content = message.content or {}
    if message.content_type == "push":
        return {
            "title": content["title"],
            "body": content.get("body", ""),
            "url": content.get("url"),
            "message_id": message.message_id,
        }
    return {
        "title": str(channel.config.get("title") or "New message"),
        "body": preview(message),
        "url": None,
        "message_id": message.message_id,
    }


async def deliver(
    context: WebChatContext, channel: ChannelRef, message: OutboundMessage, *, push_enabled: bool
) -> SendReceipt:
    is_push = message.content_type == "push"
    async with context.db.sessionmaker() as session:
        visitor = await session.scalar(
            select(Visitor).where(Visitor.id == message.recipient, Visitor.channel_id == channel.id)
        )
        if visitor is None:
            raise ProviderRejected(
                f"'{message.recipient}' is not a visitor of web channel {channel.id}: answer the "
                "visitor_id of a message.received from this channel.",
                code="recipient_unknown",
            )
        streams = await session.scalar(
            select(func.count())
            .select_from(VisitorStream)
            .where(VisitorStream.visitor_id == visitor.id, VisitorStream.expires_at > utcnow())
        )
        subscriptions = list(
            await session.scalars(select(PushSubscription).where(PushSubscription.visitor_id == visitor.id))
        )
    receipt = f"web.{secrets.token_hex(12)}"
    if streams and not is_push:
        await context.broker.publish(visitor.id, message=message.message_id)
        return SendReceipt(receipt, route=STREAM)
    if not push_enabled:
        return SendReceipt(receipt, route=PUSH_SIMULATED if is_push else STORED)
    if not subscriptions:
        if is_push:
            raise ProviderRejected(
                f"Visitor {visitor.id} has no push subscription (notifications not allowed in their browser).",
                code="no_push_subscription",
            )
        return SendReceipt(receipt, route=STORED)
    delivered = await push_to_all(context, channel, subscriptions, notification(channel, message))
    if not delivered and is_push:
        raise ProviderRejected(
            f"Every push subscription of visitor {visitor.id} has expired.", code="no_push_subscription"
        )
    return SendReceipt(receipt, route=PUSH if delivered else STORED)


async def push_to_all(
    context: WebChatContext,
    channel: ChannelRef,
    subscriptions: list[PushSubscription],
    payload: dict[str, Any],
) -> bool:
    """Push ``payload`` to every subscription. True if one took it; False if every one is
    gone (and removed). Raises ``ProviderTransientError`` when none took it and some may
    later (429, 5xx, no connection), ``ProviderRejected`` when they refused it."""
    private_key = str(channel.config[VAPID_PRIVATE_KEY])
    origins = channel.config.get("allowed_origins") or []
    subject = origins[0] if origins else "mailto:webpush@omniroute.invalid"
    outcomes = await asyncio.gather(
        *(_push_one(context, subscription, payload, private_key, subject) for subscription in subscriptions)
    )
    gone = [s.id for s, (status, _) in zip(subscriptions, outcomes, strict=True) if status in GONE]
    if gone:
        async with context.db.transaction() as session:
            await session.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone)))
    statuses = [status for status, _ in outcomes]
    if any(status is not None and 200 <= status < 300 for status in statuses):
        return True
    if len(gone) == len(subscriptions):
        return False
    retryable = [
        (status, wait) for status, wait in outcomes if status is None or status == 429 or status >= 500
    ]
    if retryable:
        raise ProviderTransientError(
            f"No push service took the notification ({', '.join(str(s) for s, _ in retryable)}).",
            code="push_unavailable",
            provider_code=retryable[0][0],
            retry_after=max((wait or 0.0) for _, wait in retryable) or None,
        )
    refused = next(status for status in statuses if status is not None and status not in GONE)
    raise ProviderRejected(
        f"The push service refused the notification (HTTP {refused}).",
        code="push_rejected",
        provider_code=refused,
    )


async def _push_one(
    context: WebChatContext, row: PushSubscription, payload: dict[str, Any], private_key: str, subject: str
) -> tuple[int | None, float | None]:
    """(HTTP status or None when there was no answer, Retry-After seconds)."""
    subscription = Subscription(row.endpoint, row.p256dh, keyring().decrypt(row.auth))
    request = push_request(subscription, payload, vapid_private_key=private_key, subject=subject)
    try:
        async with context.push_http.request(
            "POST", request.url, headers=request.headers, data=request.body
        ) as response:
            await response.read()
            retry_after = response.headers.get("Retry-After", "")
            return response.status, float(retry_after) if retry_after.isdigit() else None
    except TargetRefused as refused:
        log.warning("push subscription %s refused by the outbound-target policy: %s", row.id, refused)
        return 410, None  # an endpoint we may never call is as good as gone
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.info("push subscription %s: no answer (%r)", row.id, exc)
        return None, None


STREAM_TTL = timedelta(seconds=45)
"""A stream row lapses this long after its last heartbeat (streams beat every 15 s)."""
