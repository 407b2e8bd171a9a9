"""Signed webhook delivery: Meta's envelope, ``X-Hub-Signature-256`` over the raw body,
sent in the background and every attempt kept for inspection. Like Meta, a webhook the
receiver does not answer with a 2xx is retried with back-off (less and less often) for
up to 7 days, so a receiver that is down for a while (its database restarting) still
gets every status once it is back.

Message events (statuses and customer messages) are batched as Meta batches them under
load: several in one ``entry[].changes[].value`` (``statuses[]``, ``messages[]``,
``contacts[]``). They wait in one of a few lanes, chosen by customer, so one customer's
events arrive in the order they happened; each lane posts one body at a time, at most
``MIN_POST_INTERVAL`` apart, with whatever queued up meanwhile (at most ``MAX_BATCH``
events). An idle lane posts an event at once; a busy one sends fewer, larger bodies."""

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import aiohttp

from omniroute.core.outbound import KEEPALIVE_EXPIRY
from omniroute.core.time import rfc3339, utcnow

logger = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 5.0
RETRY_MAX_SECONDS = 3600.0
RETRY_FOR_SECONDS = 7 * 24 * 3600.0
"""Meta keeps retrying a webhook it could not deliver for up to 7 days."""

LANES = 4
"""Message webhooks in flight at once (one per lane)."""
MAX_BATCH = 100
"""Message events (statuses, customer messages) in one webhook body at most."""
MIN_POST_INTERVAL = 0.02
"""Seconds between two webhooks of one lane, so a fast receiver gets batches rather than
one POST per status (which would take the emulator's CPU from the sends)."""
MESSAGE_LISTS = ("statuses", "contacts", "messages")
"""The lists of a ``messages`` change value that a batch concatenates."""


def retry_delays(time_scale: float = 1.0) -> Iterator[float]:
    """Seconds before each retry: 5 s doubling up to an hour, until 7 days have passed;
    every figure multiplied by ``time_scale``."""
    delay, waited = RETRY_FIRST_SECONDS, 0.0
    while waited + delay <= RETRY_FOR_SECONDS:
        yield delay * time_scale
        waited += delay
        delay = min(delay * 2, RETRY_MAX_SECONDS)


def signature(app_secret: str, raw_body: bytes) -> str:
    """The ``X-Hub-Signature-256`` header value Meta sends with every webhook."""
    return "sha256=" + hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()


def merged(values: list[dict[str, Any]]) -> dict[str, Any]:
    """One ``messages`` change value holding the events of several: the first one's header
    (``messaging_product``, ``metadata``) and every value's statuses, contacts (each
    customer once) and messages, in order."""
    batch = {key: list(value) if key in MESSAGE_LISTS else value for key, value in values[0].items()}
    for value in values[1:]:
        for key in MESSAGE_LISTS:
            items = value.get(key)
            if items:
                into = batch.setdefault(key, [])
                into.extend(item for item in items if key != "contacts" or item not in into)
    return batch


@dataclass(slots=True)
class Delivery:
    id: str
    kind: str
    """The webhook field: messages, message_template_status_update..."""
    raw: bytes
    """The body exactly as sent (and signed); kept as bytes, parsed only when listed."""
    attempts: list[dict[str, Any]] = field(default_factory=list)
    delivered: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "field": self.kind,
            "body": json.loads(self.raw),
            "delivered": self.delivered,
            "attempts": self.attempts,
        }


class Background:
    """Tasks the emulator runs after answering (webhooks, template reviews)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def later(self, delay: float, action: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        async def run() -> None:
            await asyncio.sleep(delay)
            await action()

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@dataclass
class _Lane:
    pending: deque[dict[str, Any]] = field(default_factory=deque)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class WebhookSender:
    def __init__(
        self,
        url: str,
        app_secret: str,
        waba_id: str,
        background: Background,
        time_scale: float,
    ) -> None:
        self.url = url
        self.app_secret = app_secret
        self.waba_id = waba_id
        self.background = background
        self.time_scale = time_scale
        self.deliveries: list[Delivery] = []
        self._lanes = [_Lane() for _ in range(LANES)]
        self._session: aiohttp.ClientSession | None = None

    def send(self, change_field: str, value: dict[str, Any]) -> Delivery:
        """Queue one webhook of its own; returns at once."""
        delivery = self._delivery(change_field, value)
        self.background.later(0, lambda: self._deliver(delivery))
        return delivery

    def send_message_event(self, customer: str, value: dict[str, Any]) -> None:
        """Queue a ``messages`` change value (a status, a customer message) for the next
        batch of ``customer``'s lane; returns at once."""
        lane = self._lanes[hash(customer) % LANES]
        lane.pending.append(value)
        lane.wakeup.set()
        if lane.task is None or lane.task.done():
            lane.task = self.background.later(0, lambda: self._post_batches(lane))

    def clear(self) -> None:
        """Forget every webhook sent and every event still waiting for its batch."""
        self.deliveries.clear()
        for lane in self._lanes:
            lane.pending.clear()

    def _delivery(self, change_field: str, value: dict[str, Any]) -> Delivery:
        entry: dict[str, Any] = {"id": self.waba_id, "changes": [{"value": value, "field": change_field}]}
        if change_field != "messages":
            entry["time"] = int(time.time())
        body = {"object": "whatsapp_business_account", "entry": [entry]}
        delivery = Delivery(
            id=f"whk_{secrets.token_hex(8)}",
            kind=change_field,
            raw=json.dumps(body, separators=(",", ":")).encode(),
        )
        self.deliveries.append(delivery)
        return delivery

    async def _post_batches(self, lane: _Lane) -> None:
        """Post the lane's events, one body at a time, while any arrive."""
        loop = asyncio.get_running_loop()
        posted_at = -MIN_POST_INTERVAL
        while True:
            if not lane.pending:
                lane.wakeup.clear()
                await lane.wakeup.wait()
            await asyncio.sleep(max(0.0, posted_at + MIN_POST_INTERVAL - loop.time()))
            posted_at = loop.time()
            batch = [lane.pending.popleft() for _ in range(min(MAX_BATCH, len(lane.pending)))]
            delivery = self._delivery("messages", merged(batch))
            if not await self._attempt(delivery):
                self.background.later(0, partial(self._deliver, delivery, retrying=True))

    async def _attempt(self, delivery: Delivery) -> bool:
        """POST the webhook once; records the attempt and whether it was accepted (2xx)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=100, keepalive_timeout=KEEPALIVE_EXPIRY),
                timeout=aiohttp.ClientTimeout(total=10.0),
            )
        raw = delivery.raw
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature(self.app_secret, raw)}
        attempt: dict[str, Any] = {"at": rfc3339(utcnow())}
        try:
            async with self._session.post(self.url, data=raw, headers=headers) as response:
                await response.read()
                attempt["status_code"] = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            attempt["error"] = f"{type(exc).__name__}: {exc}"
        delivery.attempts.append(attempt)
        delivery.delivered = 200 <= attempt.get("status_code", 0) < 300
        return delivery.delivered

    async def _deliver(self, delivery: Delivery, *, retrying: bool = False) -> None:
        """Attempt the delivery (unless ``retrying`` after a first failed attempt), then
        retry on Meta's schedule until it is accepted or 7 days have passed."""
        if not retrying and await self._attempt(delivery):
            return
        for delay in retry_delays(self.time_scale):
            await asyncio.sleep(delay)
            if await self._attempt(delivery):
                return
        logger.warning(
            "webhook %s (%s) not delivered after %d attempts",
            delivery.id,
            delivery.kind,
            len(delivery.attempts),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
