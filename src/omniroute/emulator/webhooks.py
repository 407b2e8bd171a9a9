"""Signed webhook delivery: Meta's envelope, ``X-Hub-Signature-256`` over the raw body,
sent in the background and every attempt kept for inspection. Like Meta, a webhook the
receiver does not answer with a 2xx is retried with back-off (less and less often) for
up to 7 days, so a receiver that is down for a while (its database restarting) still
gets every status once it is back."""

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from omniroute.core.outbound import pool_limits
from omniroute.core.time import rfc3339, utcnow

logger = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 5.0
RETRY_MAX_SECONDS = 3600.0
RETRY_FOR_SECONDS = 7 * 24 * 3600.0
"""Meta keeps retrying a webhook it could not deliver for up to 7 days."""


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


@dataclass
class Delivery:
    id: str
    kind: str
    """The webhook field: messages, message_template_status_update..."""
    body: dict[str, Any]
    attempts: list[dict[str, Any]] = field(default_factory=list)
    delivered: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "field": self.kind,
            "body": self.body,
            "delivered": self.delivered,
            "attempts": self.attempts,
        }


class Background:
    """Tasks the emulator runs after answering (webhooks, delayed statuses, reviews)."""

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
        self._client = httpx.AsyncClient(timeout=10.0, limits=pool_limits(100))

    def send(self, change_field: str, value: dict[str, Any]) -> Delivery:
        """Queue one webhook; returns at once."""
        entry: dict[str, Any] = {"id": self.waba_id, "changes": [{"value": value, "field": change_field}]}
        if change_field != "messages":
            entry["time"] = int(time.time())
        delivery = Delivery(
            id=f"whk_{secrets.token_hex(8)}",
            kind=change_field,
            body={"object": "whatsapp_business_account", "entry": [entry]},
        )
        self.deliveries.append(delivery)
        self.background.later(0, lambda: self._deliver(delivery))
        return delivery

    async def _deliver(self, delivery: Delivery) -> None:
        raw = json.dumps(delivery.body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature(self.app_secret, raw)}
        for retry in (0.0, *retry_delays(self.time_scale)):
            await asyncio.sleep(retry)
            attempt: dict[str, Any] = {"at": rfc3339(utcnow())}
            try:
                response = await self._client.post(self.url, content=raw, headers=headers)
                attempt["status_code"] = response.status_code
            except httpx.HTTPError as exc:
                attempt["error"] = f"{type(exc).__name__}: {exc}"
            delivery.attempts.append(attempt)
            if 200 <= attempt.get("status_code", 0) < 300:
                delivery.delivered = True
                return
        logger.warning(
            "webhook %s (%s) not delivered after %d attempts",
            delivery.id,
            delivery.kind,
            len(delivery.attempts),
        )

    async def close(self) -> None:
        await self._client.aclose()
