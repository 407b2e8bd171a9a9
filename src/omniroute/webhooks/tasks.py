"""Background work for webhooks: the fan-out pass and one job per delivery attempt chain."""

from typing import Any

from omniroute.core import metrics
from omniroute.core.ids import new_id
from omniroute.core.tenancy import Mode
from omniroute.jobs.registry import JobContext, RetryLater, recurring, task
from omniroute.webhooks import delivery, service
from omniroute.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from omniroute.workspaces.models import now_of

FANOUT_JOB = "webhooks.fan_out"
FANOUT_EVERY_SECONDS = 0.5


@recurring(FANOUT_JOB, every=FANOUT_EVERY_SECONDS)
async def fan_out(ctx: JobContext, payload: dict[str, Any]) -> None:
    made_any = False
    while True:
        async with ctx.db.transaction() as session:
            taken, made = await service.fan_out(session)
        made_any = made_any or made > 0
        if taken < service.FANOUT_BATCH:
            break
    if made_any:
        ctx.services.jobs_enqueued()


@task(service.DELIVER_JOB)
async def deliver(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Attempt one delivery; on failure, run again after the schedule's next delay (the
    job's attempt count is the delivery's scheduled attempt number). A manual retry is one
    attempt that never schedules more."""
    manual = bool(payload.get("manual"))
    async with ctx.db.transaction() as session:
        row = await session.get(WebhookDelivery, payload["delivery_id"])
        if row is None or (row.status != service.DeliveryStatus.PENDING and not manual):
            return
        endpoint = await session.get(WebhookEndpoint, row.endpoint_id)
        assert endpoint is not None
        request = delivery.Request(
            url=endpoint.url,
            mode=Mode(endpoint.mode),
            webhook_id=row.event_id,
            body=row.body,
            secrets=service.active_secrets(endpoint, await now_of(session, endpoint)),
        )
        enabled = endpoint.enabled
    if enabled:
        outcome = await delivery.attempt(
            ctx.services.webhook_client(request.mode), ctx.services.settings, request
        )
        metrics.record_webhook_delivery("succeeded" if outcome.succeeded else "failed")
    else:
        outcome = delivery.Outcome(None, 0.0, None, "endpoint disabled: not sent")
    next_delay = None if manual or not enabled else service.retry_delay(ctx.attempt)
    async with ctx.db.transaction() as session:
        row = await session.get(WebhookDelivery, payload["delivery_id"])
        endpoint = await session.get(WebhookEndpoint, row.endpoint_id) if row else None
        if row is None or endpoint is None:
            return  # the endpoint was deleted meanwhile
        attempt = WebhookAttempt(
            id=new_id("wda"),
            delivery_id=row.id,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            response_excerpt=outcome.response_excerpt,
            error=outcome.error,
            manual=manual,
            created_at=await now_of(session, endpoint),
        )
        service.record_attempt(session, row, endpoint, attempt, next_delay=next_delay, manual=manual)
        retry = row.status == service.DeliveryStatus.PENDING and next_delay is not None
    if retry and next_delay is not None:
        raise RetryLater(next_delay, f"webhook delivery failed: {outcome.error}")
