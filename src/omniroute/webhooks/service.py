"""Webhook endpoints and deliveries: CRUD, secret rotation, the fan-out from events to
deliveries, and the outcome of each attempt (retry schedule and automatic disabling)."""

import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.config import Settings
from omniroute.core import targets
from omniroute.core.errors import not_found
from omniroute.core.ids import new_id
from omniroute.core.tenancy import Mode, Tenant
from omniroute.core.time import rfc3339
from omniroute.events import service as events
from omniroute.events.models import Event
from omniroute.events.types import EventType, matches
from omniroute.jobs import queue
from omniroute.webhooks import signing
from omniroute.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from omniroute.webhooks.schemas import EndpointCreate, EndpointOut, EndpointUpdate
from omniroute.workspaces.models import now_of

log = logging.getLogger(__name__)

DELIVER_JOB = "webhooks.deliver"

RETRY_DELAYS_SECONDS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
"""Wait after the 1st, 2nd, ... failed attempt: 8 attempts over about 27.6 hours."""

PREVIOUS_SECRET_GRACE = timedelta(hours=24)
"""After a rotation, the old secret signs too (a second signature) for this long."""

DISABLE_AFTER = timedelta(days=5)
"""An endpoint whose every attempt failed for this long is disabled."""

FANOUT_BATCH = 500


class DeliveryStatus:
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def scoped(tenant: Tenant) -> Select[WebhookEndpoint]:
    return select(WebhookEndpoint).where(
        WebhookEndpoint.workspace_id == tenant.workspace_id, WebhookEndpoint.mode == tenant.mode
    )


async def get(session: AsyncSession, tenant: Tenant, endpoint_id: str) -> WebhookEndpoint:
    endpoint = await session.scalar(scoped(tenant).where(WebhookEndpoint.id == endpoint_id))
    if endpoint is None:
        raise not_found("webhook endpoint", endpoint_id)
    return endpoint


async def require_allowed_url(url: str, mode: Mode, settings: Settings) -> None:
    """The outbound-target policy for an endpoint being saved (https only in live mode
    unless ``OMNIROUTE_WEBHOOK_ALLOW_HTTP``)."""
    await targets.require_allowed(
        url,
        mode,
        settings,
        param="url",
        code="webhook_url_forbidden",
        https_only=not settings.webhook_allow_http,
    )


async def create(
    session: AsyncSession, tenant: Tenant, body: EndpointCreate, settings: Settings
) -> WebhookEndpoint:
    await require_allowed_url(body.url, tenant.mode, settings)
    endpoint = WebhookEndpoint(
        id=new_id("we"),
        workspace_id=tenant.workspace_id,
        mode=tenant.mode,
        url=body.url,
        events=body.events,
        description=body.description,
        enabled=body.enabled,
        secret=signing.new_secret(),
    )
    session.add(endpoint)
    await session.flush()
    return endpoint


async def update_endpoint(
    endpoint: WebhookEndpoint, body: EndpointUpdate, tenant: Tenant, settings: Settings
) -> WebhookEndpoint:
    if body.url is not None:
        await require_allowed_url(body.url, tenant.mode, settings)
        endpoint.url = body.url
    if body.events is not None:
        endpoint.events = body.events
    if "description" in body.model_fields_set:
        endpoint.description = body.description
    if body.enabled is not None:
        endpoint.enabled = body.enabled
        if body.enabled:
            endpoint.disabled_reason = None
            endpoint.failing_since = None
    return endpoint


def rotate_secret(endpoint: WebhookEndpoint, now: datetime) -> None:
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + PREVIOUS_SECRET_GRACE
    endpoint.secret = signing.new_secret()


def active_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    secrets = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_expires_at
        and now < endpoint.previous_secret_expires_at
    ):
        secrets.append(endpoint.previous_secret)
    return secrets


def body_of(event: Event) -> str:
    return json.dumps(
        {"type": event.type, "timestamp": rfc3339(event.occurred_at), "data": event.data},
        separators=(",", ":"),
        ensure_ascii=False,
    )


async def fan_out(session: AsyncSession) -> tuple[int, int]:
    """Turn events not yet fanned out into one delivery (and its job) per matching enabled
    endpoint, in one transaction with clearing their flag. Returns how many events it took
    and how many deliveries it made."""
    batch = (
        await session.scalars(
            select(Event)
            .where(Event.fanout_pending.is_(True))
            .order_by(Event.id)
            .limit(FANOUT_BATCH)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not batch:
        return 0, 0
    endpoints: dict[tuple[str, str], list[WebhookEndpoint]] = defaultdict(list)
    for endpoint in await session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.enabled.is_(True),
            WebhookEndpoint.workspace_id.in_({event.workspace_id for event in batch}),
        )
    ):
        endpoints[endpoint.workspace_id, endpoint.mode].append(endpoint)
    made = 0
    for event in batch:
        for endpoint in endpoints[event.workspace_id, event.mode]:
            if matches(endpoint.events, event.type):
                _add_delivery(session, endpoint, event, await now_of(session, endpoint))
                made += 1
    await session.execute(
        update(Event)
        .where(Event.id.in_([event.id for event in batch]))
        .values(fanout_pending=False)
        .execution_options(synchronize_session=False)
    )
    return len(batch), made


def _add_delivery(session: AsyncSession, endpoint: WebhookEndpoint, event: Event, now: datetime) -> None:
    delivery = WebhookDelivery(
        id=new_id("wd"),
        workspace_id=endpoint.workspace_id,
        mode=endpoint.mode,
        endpoint_id=endpoint.id,
        event_id=event.id,
        event_type=event.type,
        body=body_of(event),
        status=DeliveryStatus.PENDING,
        next_attempt_at=now,
    )
    session.add(delivery)
    queue.enqueue(session, DELIVER_JOB, {"delivery_id": delivery.id})


async def attempts_of(
    session: AsyncSession, deliveries: Sequence[WebhookDelivery]
) -> dict[str, list[WebhookAttempt]]:
    """The attempts of a page of deliveries, oldest first, in one query."""
    attempts: dict[str, list[WebhookAttempt]] = {d.id: [] for d in deliveries}
    for attempt in await session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(list(attempts)))
        .order_by(WebhookAttempt.id)
    ):
        attempts[attempt.delivery_id].append(attempt)
    return attempts


async def get_delivery(session: AsyncSession, endpoint: WebhookEndpoint, delivery_id: str) -> WebhookDelivery:
    delivery = await session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id
        )
    )
    if delivery is None:
        raise not_found("webhook delivery", delivery_id)
    return delivery


def retry_now(session: AsyncSession, delivery: WebhookDelivery) -> None:
    """One extra attempt right away; a failure leaves the delivery where it was (a pending
    one keeps its schedule, a failed one stays failed)."""
    queue.enqueue(
        session, DELIVER_JOB, {"delivery_id": delivery.id, "manual": True}, priority=queue.PRIORITY_HIGH
    )


def retry_delay(scheduled_attempt: int) -> float | None:
    """Seconds until the next attempt after the ``scheduled_attempt``-th failed, or None
    when the schedule is exhausted."""
    if scheduled_attempt > len(RETRY_DELAYS_SECONDS):
        return None
    return float(RETRY_DELAYS_SECONDS[scheduled_attempt - 1])


def record_attempt(
    session: AsyncSession,
    delivery: WebhookDelivery,
    endpoint: WebhookEndpoint,
    attempt: WebhookAttempt,
    *,
    next_delay: float | None,
    manual: bool,
) -> None:
    """Store one attempt's outcome and move the delivery and endpoint on."""
    session.add(attempt)
    succeeded = attempt.status_code is not None and 200 <= attempt.status_code < 300
    now = attempt.created_at
    if succeeded:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.next_attempt_at = None
        endpoint.failing_since = None
        return
    if not manual:
        delivery.status = DeliveryStatus.PENDING if next_delay is not None else DeliveryStatus.FAILED
        delivery.next_attempt_at = now + timedelta(seconds=next_delay) if next_delay is not None else None
    if endpoint.failing_since is None:
        endpoint.failing_since = now
    elif endpoint.enabled and now - endpoint.failing_since >= DISABLE_AFTER:
        disable(session, endpoint, now)


def disable(session: AsyncSession, endpoint: WebhookEndpoint, now: datetime) -> None:
    endpoint.enabled = False
    endpoint.disabled_reason = (
        f"Every delivery failed from {rfc3339(endpoint.failing_since)} to {rfc3339(now)}; "
        "fix the endpoint and re-enable it with PATCH."
    )
    log.warning("webhook endpoint %s disabled: %s", endpoint.id, endpoint.disabled_reason)
    events.record(
        session,
        endpoint,
        EventType.WEBHOOK_ENDPOINT_DISABLED,
        EndpointOut.model_validate(endpoint).model_dump(mode="json"),
        at=now,
    )
