"""Dispatch: hand queued messages to their channels' providers, exactly once, a batch at
a time.

1. In one transaction for the batch, re-check every rule for each message (the window may
   have closed while it waited; ``BatchFacts`` reads what the rules need with a few
   queries), mark it ``sending`` and set ``provider_call_started_at``; commit.
2. Call the providers concurrently, outside any transaction.
3. In one transaction for the batch, record each result: accepted (provider id stored;
   statuses follow), retryable (to be tried again after a back-off), final (``failed``
   with the reason), or unknown (see below).

A send whose outcome is unknown (a timeout after the request left, or a worker that
died between steps 1 and 3, found by ``provider_call_started_at`` still being set) is
never sent again: that could deliver it twice. It stays ``sending`` while a provider
status carrying our message id (Meta's ``biz_opaque_callback_data``) may still match
it; after ``unknown_outcome_grace_seconds`` without one it fails with
``send_outcome_unknown`` so the caller can decide.
"""

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.campaigns.models import Campaign, CampaignStatus
from omniroute.channels.models import Channel, ChannelStatus
from omniroute.contacts.models import Contact
from omniroute.core import metrics
from omniroute.core.db import when_available
from omniroute.core.errors import APIError
from omniroute.core.tenancy import Mode, TenantRef
from omniroute.jobs import queue
from omniroute.jobs.registry import JobContext, RetryLater, recurring, task
from omniroute.jobs.worker import backoff
from omniroute.messages import hooks, pacing, service
from omniroute.messages.facts import BatchFacts
from omniroute.messages.models import Message, MessageKind, MessageStatus
from omniroute.messages.pacing import Pacer
from omniroute.policy import errors as meta_errors
from omniroute.policy.limits import PACING_HORIZON_SECONDS
from omniroute.providers.base import OutboundMessage, Provider, SendReceipt, TemplateSend
from omniroute.providers.errors import (
    ProviderAuthError,
    ProviderElsewhere,
    ProviderError,
    ProviderOutcomeUnknown,
    ProviderRateLimited,
    ProviderTransientError,
)
from omniroute.sms import service as sms
from omniroute.workspaces.models import Workspace

log = logging.getLogger(__name__)

UNKNOWN_OUTCOME_CODE = "send_outcome_unknown"
PAUSED_CAMPAIGN_RECHECK_SECONDS = 5.0


@dataclass(frozen=True)
class _Send:
    message_id: str
    channel_id: str
    provider: Provider
    outbound: OutboundMessage
    attempts: int
    per_second: int


class _Batch:
    """A batch of messages locked in one transaction, with the rows their rules read."""

    def __init__(self, session: AsyncSession, messages: Sequence[Message]) -> None:
        self.session = session
        self.messages = messages
        self.channels: dict[str, Channel] = {}
        self.workspaces: dict[str, Workspace] = {}

    @classmethod
    async def lock(cls, session: AsyncSession, message_ids: Sequence[str]) -> "_Batch":
        """Lock the messages (in id order, so two batches never wait on each other in a
        cycle) and read their channels and workspaces."""
        messages = (
            await session.scalars(
                select(Message).where(Message.id.in_(message_ids)).order_by(Message.id).with_for_update()
            )
        ).all()
        batch = cls(session, messages)
        channel_ids = {message.channel_id for message in messages}
        workspace_ids = {message.workspace_id for message in messages}
        batch.channels = {
            channel.id: channel
            for channel in await session.scalars(select(Channel).where(Channel.id.in_(channel_ids)))
        }
        batch.workspaces = {
            workspace.id: workspace
            for workspace in await session.scalars(select(Workspace).where(Workspace.id.in_(workspace_ids)))
        }
        return batch

    def now(self, message: Message) -> datetime:
        """The message's workspace clock (a test-mode message follows its test clock)."""
        return self.workspaces[message.workspace_id].now(Mode(message.mode))


_Held = tuple[float, datetime, _Send]
"""A send waiting for its pacing slot: the slot (epoch seconds), the message's clock when it
was prepared (its ``provider_call_started_at`` once marked), and the send."""


async def dispatch_messages(services: Any, message_ids: Sequence[str]) -> dict[str, RetryLater]:
    """Hand these queued messages to their providers. Returns the ones to hand over again
    later, with when; every other one was handed over, failed with a reason, or found
    already handed over (or possibly so: then it is never sent again). A send whose pacing
    slot is reserved a little ahead waits for it unmarked, and is marked when it comes."""
    async with services.db.transaction() as session:
        sends, paced, held = await _prepare_batch(session, services, message_ids)
    retries = {**paced, **await _send_and_record(services, sends)}
    for slot, group in _by_slot(held):
        await asyncio.sleep(max(0.0, slot - time.time()))
        due, paused = await _mark(services, group)
        retries.update(paused)
        retries.update(await _send_and_record(services, due))
    return retries


def _by_slot(held: dict[str, _Held]) -> list[tuple[float, list[_Held]]]:
    """Held sends in groups of slots ``PACING_HORIZON_SECONDS`` wide, earliest first, each
    with the time its group may go."""
    groups: dict[int, list[_Held]] = {}
    for waiting in held.values():
        groups.setdefault(int(waiting[0] / PACING_HORIZON_SECONDS), []).append(waiting)
    return [(bucket * PACING_HORIZON_SECONDS, group) for bucket, group in sorted(groups.items())]


async def _mark(services: Any, group: list[_Held]) -> tuple[list[_Send], dict[str, RetryLater]]:
    """Mark the held sends that are still to go (not cancelled, failed or sent meanwhile)
    as being sent, in one short transaction: those are the ones to send. A send whose
    campaign was paused meanwhile is not marked: it is looked at again later."""
    by_id = {send.message_id: (prepared_at, send) for _, prepared_at, send in group}
    async with services.db.transaction() as session:
        messages = (
            await session.scalars(
                select(Message)
                .where(
                    Message.id.in_(by_id),
                    Message.status == MessageStatus.SENDING,
                    Message.provider_call_started_at.is_(None),
                    Message.provider_message_id.is_(None),
                )
                .order_by(Message.id)
                .with_for_update()
            )
        ).all()
        paused = await _held_campaigns(session, {m.campaign_id for m in messages if m.campaign_id})
        due = [message for message in messages if message.campaign_id not in paused]
        for message in due:
            message.provider_call_started_at = by_id[message.id][0]
            message.attempts += 1
    later = RetryLater(PAUSED_CAMPAIGN_RECHECK_SECONDS, "campaign paused")
    return [by_id[message.id][1] for message in due], {
        message.id: later for message in messages if message.campaign_id in paused
    }


async def _send_and_record(services: Any, sends: list["_Send"]) -> dict[str, RetryLater]:
    settings = services.settings
    if not sends:
        return {}
    results = await asyncio.gather(*(_send_within(send, settings.provider_timeout_seconds) for send in sends))

    async def record() -> dict[str, RetryLater]:
        async with services.db.transaction() as session:
            return await _record_results(session, settings, sends, results)

    # The providers' answers exist only in this worker's memory: wait for the database to
    # take them, for as long as the job lease allows (half of it; the sends were bounded
    # well inside the other half).
    recorded: dict[str, RetryLater] = await when_available(
        record, give_up_after=settings.job_lease_seconds / 2
    )
    return recorded


async def _prepare_batch(
    session: AsyncSession, services: Any, message_ids: Sequence[str]
) -> tuple[list[_Send], dict[str, RetryLater], dict[str, "_Held"]]:
    """The sends of the batch that go now; the messages whose slot is beyond the pacing
    reserve (to be tried again later; nothing about them changed); and the sends whose
    slot is reserved a little ahead (prepared, not marked as being sent until then)."""
    settings = services.settings
    batch = await _Batch.lock(session, message_ids)
    held = await _held_campaigns(session, {m.campaign_id for m in batch.messages if m.campaign_id})
    pacer = Pacer(session)
    await pacer.lock(batch.channels, {(m.channel_id, m.recipient) for m in batch.messages})
    paced: dict[str, RetryLater] = {}
    waiting: dict[str, tuple[float, datetime]] = {}
    contacts = {
        contact.id: contact
        for contact in await session.scalars(
            select(Contact).where(Contact.id.in_({m.contact_id for m in batch.messages}))
        )
    }
    facts = BatchFacts(session)
    await facts.prefetch((message.contact_id, message.channel_id) for message in batch.messages)
    sends: list[_Send] = []
    for message in batch.messages:
        now = batch.now(message)
        if (
            message.status not in (MessageStatus.QUEUED, MessageStatus.SENDING)
            or message.provider_message_id
            or message.outcome_unknown_since
        ):
            continue  # already handed over, or possibly handed over: never send it again
        if message.campaign_id in held:
            # Its campaign is paused: look again later (resuming brings the job forward).
            paced[message.id] = RetryLater(PAUSED_CAMPAIGN_RECHECK_SECONDS, "campaign paused")
            continue
        if message.provider_call_started_at is not None:
            _outcome_unknown(
                session, message, now, settings.unknown_outcome_grace_seconds, "worker stopped mid-send"
            )
            continue
        channel = batch.channels[message.channel_id]
        slot = pacer.take(channel, message.priority, message.recipient)
        if slot.at is None:
            paced[message.id] = RetryLater(
                slot.retry_in, f"paced: channel {channel.id}'s throughput or pair rate"
            )
            continue
        outbound = await _prepare(session, facts, message, channel, contacts[message.contact_id], now)
        if outbound is None:
            continue
        if slot.at > time.time() + PACING_HORIZON_SECONDS:
            # Prepared (``sending``) but not marked as being sent, and no call counted: it
            # waits for its slot.
            message.provider_call_started_at = None
            message.attempts -= 1
            waiting[message.id] = (slot.at, now)
        # The channel actually used: a channel fallback may have switched it (when it did
        # not, the session's identity map answers without a query).
        sending_channel = await session.get(Channel, message.channel_id)
        assert sending_channel is not None
        provider = services.providers.for_channel(sending_channel)
        sends.append(
            _Send(
                message.id,
                sending_channel.id,
                provider,
                outbound,
                message.attempts + (message.id in waiting),  # the call it will make counts
                sending_channel.throughput_per_second,
            )
        )
    await pacer.save()
    return (
        [send for send in sends if send.message_id not in waiting],
        paced,
        {send.message_id: (*waiting[send.message_id], send) for send in sends if send.message_id in waiting},
    )


async def _held_campaigns(session: AsyncSession, campaign_ids: set[str]) -> set[str]:
    """Of these campaigns, the paused ones (a cancelled campaign's queued messages failed)."""
    if not campaign_ids:
        return set()
    held = await session.scalars(
        select(Campaign.id).where(Campaign.id.in_(campaign_ids), Campaign.status == CampaignStatus.PAUSED)
    )
    return set(held)


async def _record_results(
    session: AsyncSession,
    settings: Any,
    sends: Sequence[_Send],
    results: Sequence[SendReceipt | ProviderError],
) -> dict[str, RetryLater]:
    batch = await _Batch.lock(session, [send.message_id for send in sends])
    messages = {message.id: message for message in batch.messages}
    retries: dict[str, RetryLater] = {}
    for send, result in zip(sends, results, strict=True):
        message = messages[send.message_id]
        now = batch.now(message)
        message.provider_call_started_at = None
        if isinstance(result, SendReceipt):
            message.provider_message_id = result.provider_message_id
            message.next_attempt_at = None
            # Accepted by the provider: ``sent``. Its own statuses (delivered, read,
            # failed) follow; a webhook lost or late does not leave the message ``sending``.
            service.transition(session, message, MessageStatus.SENT, now, detail=result.route)
            if result.parts:
                await sms.record_parts(session, message, result.parts, now)
        elif isinstance(result, ProviderOutcomeUnknown):
            _outcome_unknown(session, message, now, settings.unknown_outcome_grace_seconds, result.message)
        elif isinstance(result, ProviderRateLimited) and result.retry_after is not None:
            # Over the provider's rate (throughput or pair rate): not the message's fault.
            # Sent again once the provider allows it (no back-off growth), never failed for
            # it however often it happens (``attempts`` still counts the calls).
            if isinstance(result, ProviderElsewhere):
                message.attempts -= 1  # no call: another process holds the channel's bind
            if str(result.provider_code) == str(meta_errors.THROUGHPUT_LIMIT):
                await pacing.slow_down(session, send.channel_id, result.retry_after)
            elif str(result.provider_code) == str(meta_errors.PAIR_RATE_LIMIT):
                await pacing.pair_refused(
                    session, send.channel_id, send.outbound.recipient, result.retry_after
                )
            message.next_attempt_at = now + timedelta(seconds=result.retry_after)
            retries[message.id] = RetryLater(result.retry_after, f"{result.code}: {result.message}")
        elif isinstance(result, ProviderTransientError) and send.attempts < settings.send_max_attempts:
            delay = max(result.retry_after or 0.0, backoff(send.attempts))
            message.next_attempt_at = now + timedelta(seconds=delay)
            retries[message.id] = RetryLater(delay, f"{result.code}: {result.message}")
        else:
            if isinstance(result, ProviderAuthError):
                batch.channels[message.channel_id].status = ChannelStatus.CREDENTIALS_REJECTED
            code = result.code if not isinstance(result, ProviderTransientError) else "retries_exhausted"
            service.fail(
                session, message, now, code=code, text=result.message, provider_code=result.provider_code
            )
    return retries


async def dispatch_batch(services: Any, jobs: list[queue.ClaimedJob]) -> dict[str, RetryLater]:
    """A batch of dispatch jobs (see ``jobs.batch``): the jobs whose message is to be
    handed over again later."""
    retries = await dispatch_messages(services, [job.payload["message_id"] for job in jobs])
    return {
        job.id: retries[job.payload["message_id"]] for job in jobs if job.payload["message_id"] in retries
    }


@task(service.DISPATCH_JOB)
async def dispatch(ctx: JobContext, payload: dict[str, Any]) -> None:
    """One message's dispatch job run on its own (when its batch failed as a whole)."""
    message_id = payload["message_id"]
    retry = (await dispatch_messages(ctx.services, [message_id])).get(message_id)
    if retry is not None:
        raise retry


async def _send_within(send: _Send, seconds: float) -> SendReceipt | ProviderError:
    """The provider's answer, or the error saying why there is none, with its outcome and
    latency counted (``core/metrics.py``)."""
    await pacing.send_window.admit(send.channel_id, send.per_second)
    started = time.perf_counter()
    result = await _answer_within(send.provider, send.outbound, seconds)
    outcome = "sent" if isinstance(result, SendReceipt) else metrics.dispatch_outcome(result)
    code = "" if isinstance(result, SendReceipt) else result.code
    metrics.record_dispatch(send.channel_id, outcome, code, time.perf_counter() - started)
    return result


async def _answer_within(
    provider: Provider, outbound: OutboundMessage, seconds: float
) -> SendReceipt | ProviderError:
    """Every call is bounded well inside the job lease, so no second worker can take the
    job while the call may still be running. Adapters map their own timeouts more
    precisely (before the request left: transient; after: unknown); anything else
    unexpected may have happened after the request left, so its outcome is unknown."""
    try:
        return await asyncio.wait_for(provider.send(outbound), seconds)
    except ProviderError as error:
        return error
    except TimeoutError:
        return ProviderOutcomeUnknown(f"no answer from the provider within {seconds:g}s")
    except Exception as exc:
        log.exception("message %s: the provider adapter failed unexpectedly", outbound.message_id)
        return ProviderOutcomeUnknown(f"the provider adapter failed unexpectedly: {exc!r}")


async def _prepare(
    session: AsyncSession,
    facts: BatchFacts,
    message: Message,
    channel: Channel,
    contact: Contact,
    now: datetime,
) -> OutboundMessage | None:
    """Re-check the rules at dispatch time and mark the message as being sent. Returns
    None when the message was failed instead."""
    tenant = TenantRef(message.workspace_id, Mode(message.mode))
    if channel.status != ChannelStatus.ACTIVE or channel.deleted_at is not None:
        service.fail(
            session,
            message,
            now,
            code="channel_unavailable",
            text=f"Channel {channel.id} is {channel.status}.",
        )
        return None
    # A template (asked for, or chosen as the fallback at acceptance) is re-checked as
    # such; a session message goes through the window check again, fallback included.
    is_template = message.kind == MessageKind.TEMPLATE
    draft = service.Draft(
        content_type=message.content_type,
        content=message.content,
        template=message.template if is_template else None,
        fallback=None if is_template else message.fallback,
    )
    try:
        decision = await service.decide(facts, tenant, channel, contact, draft, now)
    except APIError as refusal:
        service.fail(session, message, now, code=refusal.code, text=refusal.message)
        return None
    if decision.fallback_used is not None:
        log.info(
            "message %s: window closed while queued; using the %s fallback",
            message.id,
            decision.fallback_used,
        )
    service.apply_decision(message, decision)
    message.attempts += 1
    message.provider_call_started_at = now
    service.transition(session, message, MessageStatus.SENDING, now)
    template = None
    if decision.template is not None and decision.template_components is not None:
        template = TemplateSend(
            name=decision.template["name"],
            language=decision.template["language"],
            category=decision.template["category"],
            components=decision.template_components,
        )
    prepared = OutboundMessage(
        message_id=message.id,
        recipient=message.recipient,
        content_type=message.content_type,
        content=message.content,
        template=template,
        metadata=message.extra_metadata or {},
    )
    return await hooks.outbound(session, message, prepared)


def _outcome_unknown(session: AsyncSession, message: Message, now: datetime, grace: float, why: str) -> None:
    log.warning("message %s: send outcome unknown (%s); not resending", message.id, why)
    message.provider_call_started_at = None
    message.outcome_unknown_since = now
    queue.enqueue(
        session,
        service.RESOLVE_UNKNOWN_JOB,
        {"message_id": message.id},
        delay=grace,
        workspace_id=message.workspace_id,
        mode=Mode(message.mode),
    )


@task(service.RESOLVE_UNKNOWN_JOB)
async def resolve_unknown(ctx: JobContext, payload: dict[str, Any]) -> None:
    """No provider status matched the message within the grace period: fail it, saying why."""
    async with ctx.db.transaction() as session:
        batch = await _Batch.lock(session, [payload["message_id"]])
        for message in batch.messages:
            if message.provider_message_id is not None or message.status != MessageStatus.SENDING:
                continue
            service.fail(
                session,
                message,
                batch.now(message),
                code=UNKNOWN_OUTCOME_CODE,
                text="The provider did not confirm this send and it was not retried, to avoid a "
                "duplicate. It may or may not have been delivered; check with the customer before resending.",
            )


FORGET_PAIRS_JOB = "messages.forget_pairs"
FORGET_PAIRS_EVERY_SECONDS = 600.0


@recurring(FORGET_PAIRS_JOB, every=FORGET_PAIRS_EVERY_SECONDS)
async def forget_spent_pairs(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Keep ``pair_paces`` to the pairs still within their allowance."""
    async with ctx.db.transaction() as session:
        await pacing.forget_spent_pairs(session)
