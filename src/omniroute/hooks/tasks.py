"""Applies stored provider webhooks after the response was sent."""

import json
import logging
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.channels.models import Channel
from omniroute.core.text import storable
from omniroute.core.time import utcnow
from omniroute.hooks.models import ProviderWebhook
from omniroute.hooks.service import PROCESS_JOB
from omniroute.ingest.service import apply_event
from omniroute.jobs.queue import ClaimedJob
from omniroute.jobs.registry import JobContext, RetryLater, task
from omniroute.messages.models import Message
from omniroute.providers.events import ProviderEvent, StatusUpdate
from omniroute.providers.meta import webhook
from omniroute.providers.registry import TWILIO
from omniroute.providers.twilio import wire as twilio_wire

log = logging.getLogger(__name__)


WEBHOOK_BATCH_SIZE = 100
"""Provider webhooks applied in one transaction by the batch worker."""


async def apply_webhooks(services: Any, jobs: list[ClaimedJob]) -> dict[str, RetryLater]:
    """A batch of stored webhooks applied in one transaction (see ``jobs.batch``)."""
    webhook_ids = [job.payload["webhook_id"] for job in jobs]
    async with services.db.transaction() as session:
        rows = await session.scalars(
            select(ProviderWebhook)
            .where(ProviderWebhook.id.in_(webhook_ids))
            .order_by(ProviderWebhook.id)
            .with_for_update()
        )
        webhooks = [(row, _read(row)) for row in rows.all()]
        channel_ids = {row.channel_id for row, _ in webhooks}
        # Read into the session, so each webhook's channel below is found without a query.
        (await session.scalars(select(Channel).where(Channel.id.in_(channel_ids)))).all()
        await _lock_messages(session, channel_ids, [item.event for _, items in webhooks for item in items])
        for row, items in webhooks:
            await _apply(session, row, items)
    return {}


@task(PROCESS_JOB)
async def process(ctx: JobContext, payload: dict[str, Any]) -> None:
    """One stored webhook applied on its own (when its batch failed as a whole)."""
    async with ctx.db.transaction() as session:
        row = await session.get(ProviderWebhook, payload["webhook_id"], with_for_update=True)
        if row is not None:
            await _apply(session, row, _read(row))


def _read(row: ProviderWebhook) -> list[webhook.ParsedEvent]:
    """The events of a stored webhook, marking it processed; none when it was processed
    already or cannot be read (then saying why on the row)."""
    if row.processed_at is not None:
        return []
    row.processed_at = utcnow()
    if row.provider == TWILIO:
        params = storable(dict(parse_qsl(row.body.decode("utf-8", "replace"), keep_blank_values=True)))
        return [webhook.ParsedEvent(event) for event in twilio_wire.parse_callback(params, row.received_at)]
    try:
        body = storable(json.loads(row.body))
        if not isinstance(body, dict):
            raise ValueError("the body is not a JSON object")
    except (ValueError, RecursionError) as exc:
        row.error = f"unreadable body: {exc}"
        log.warning("webhook %s on %s: %s", row.id, row.channel_id, row.error)
        return []
    return webhook.parse(body)


async def _lock_messages(session: AsyncSession, channel_ids: set[str], events: list[ProviderEvent]) -> None:
    """Lock the messages the statuses of a batch update, in id order, as dispatch does: two
    transactions that lock the same messages in different orders would deadlock."""
    statuses = [event for event in events if isinstance(event, StatusUpdate)]
    if not statuses:
        return
    provider_ids = {status.provider_message_id for status in statuses}
    references = {status.client_reference for status in statuses if status.client_reference}
    await session.execute(
        select(Message.id)
        .where(
            Message.channel_id.in_(channel_ids),
            or_(Message.provider_message_id.in_(provider_ids), Message.id.in_(references)),
        )
        .order_by(Message.id)
        .with_for_update()
    )


async def _apply(session: AsyncSession, row: ProviderWebhook, items: list[webhook.ParsedEvent]) -> None:
    channel = await session.get(Channel, row.channel_id)
    if channel is None:
        return
    for item in items:
        target = await _channel_of(session, channel, item.phone_number_id)
        if target is None:
            log.warning(
                "webhook %s: no meta channel of this workspace has phone_number_id %s; skipped %s",
                row.id,
                item.phone_number_id,
                item.event.type,
            )
            continue
        await apply_event(session, target, item.event)


async def _channel_of(session: AsyncSession, channel: Channel, phone_number_id: str | None) -> Channel | None:
    """Meta sends every number of an app to one callback URL: route by the number's id."""
    if phone_number_id is None or (channel.config or {}).get("phone_number_id") == phone_number_id:
        return channel
    siblings = await session.scalars(
        select(Channel).where(
            Channel.workspace_id == channel.workspace_id,
            Channel.mode == channel.mode,
            Channel.provider == channel.provider,
            Channel.deleted_at.is_(None),
        )
    )
    return next((c for c in siblings if (c.config or {}).get("phone_number_id") == phone_number_id), None)
