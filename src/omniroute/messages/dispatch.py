"""Dispatch: hand one queued message to its channel's provider, exactly once.

1. In a transaction, re-check the rules (the window may have closed while the message
   waited), mark the message ``sending`` and set ``provider_call_started_at``; commit.
2. Call the provider outside any transaction.
3. In a transaction, record the result: accepted (provider id stored; statuses follow),
   retryable (job rescheduled with back-off), final (``failed`` with the reason), or
   unknown (see below).

A send whose outcome is unknown (a timeout after the request left, or a worker that
died between steps 1 and 3, found by ``provider_call_started_at`` still being set) is
never sent again: that could deliver it twice. It stays ``sending`` while a provider
status carrying our message id (Meta's ``biz_opaque_callback_data``) may still match
it; after ``unknown_outcome_grace_seconds`` without one it fails with
``send_outcome_unknown`` so the caller can decide.
"""

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.channels.models import Channel, ChannelStatus
from omniroute.contacts.models import Contact
from omniroute.core import metrics
from omniroute.core.db import when_available
from omniroute.core.errors import APIError
from omniroute.core.tenancy import Mode, TenantRef
from omniroute.jobs import queue
from omniroute.jobs.registry import JobContext, RetryLater, task
from omniroute.jobs.worker import backoff
from omniroute.messages import service
from omniroute.messages.models import Message, MessageKind, MessageStatus
from omniroute.providers.base import OutboundMessage, Provider, SendReceipt, TemplateSend
from omniroute.providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderOutcomeUnknown,
    ProviderTransientError,
)
from omniroute.workspaces.models import Workspace

log = logging.getLogger(__name__)

UNKNOWN_OUTCOME_CODE = "send_outcome_unknown"


async def _load(session: AsyncSession, message_id: str) -> tuple[Message, Channel, Workspace] | None:
    message = await session.get(Message, message_id, with_for_update=True)
    if message is None:
        return None
    channel = await session.get(Channel, message.channel_id)
    workspace = await session.get(Workspace, message.workspace_id)
    assert channel is not None and workspace is not None
    return message, channel, workspace


@task(service.DISPATCH_JOB)
async def dispatch(ctx: JobContext, payload: dict[str, Any]) -> None:
    message_id = payload["message_id"]
    settings = ctx.services.settings
    async with ctx.db.transaction() as session:
        loaded = await _load(session, message_id)
        if loaded is None:
            return
        message, channel, workspace = loaded
        now = workspace.now(Mode(message.mode))
        if (
            message.status not in (MessageStatus.QUEUED, MessageStatus.SENDING)
            or message.provider_message_id
            or message.outcome_unknown_since
        ):
            return  # already handed over, or possibly handed over: never send it again
        if message.provider_call_started_at is not None:
            _outcome_unknown(
                session, message, now, settings.unknown_outcome_grace_seconds, "worker stopped mid-send"
            )
            return
        outbound = await _prepare(session, message, channel, now)
        if outbound is None:
            return
        attempts = message.attempts
        # The channel actually used: a channel fallback may have switched it (when it did
        # not, the session's identity map answers without a query).
        sending_channel = await session.get(Channel, message.channel_id)
        assert sending_channel is not None
        provider = ctx.services.providers.for_channel(sending_channel)

    try:
        receipt = await metrics.timed_send(
            provider.channel.id, _send_within(provider, outbound, settings.provider_timeout_seconds)
        )
    except ProviderError as error:
        await _record_failure(ctx, message_id, error, attempts)
        return

    async def record_acceptance() -> None:
        async with ctx.db.transaction() as session:
            loaded = await _load(session, message_id)
            assert loaded is not None
            accepted, _, accepted_in = loaded
            accepted.provider_message_id = receipt.provider_message_id
            accepted.provider_call_started_at = None
            accepted.next_attempt_at = None
            # Accepted by the provider: ``sent``. Its own statuses (delivered, read,
            # failed) follow; a webhook lost or late does not leave the message ``sending``.
            service.transition(session, accepted, MessageStatus.SENT, accepted_in.now(Mode(accepted.mode)))

    await when_available(record_acceptance, give_up_after=_recording_patience(ctx))


def _recording_patience(ctx: JobContext) -> float:
    """How long a provider's answer waits for the database to record it: it exists only
    in this worker's memory, and the job's lease must not run out meanwhile (half the
    lease; the send itself is bounded well inside the other half)."""
    return float(ctx.services.settings.job_lease_seconds) / 2


async def _send_within(provider: Provider, outbound: OutboundMessage, seconds: float) -> SendReceipt:
    """Bound every provider call well inside the job lease, so no second worker can take
    the job while the call may still be running. Adapters map their own timeouts more
    precisely (before the request left: transient; after: unknown)."""
    try:
        return await asyncio.wait_for(provider.send(outbound), seconds)
    except TimeoutError as exc:
        raise ProviderOutcomeUnknown(f"no answer from the provider within {seconds:g}s") from exc


async def _prepare(
    session: AsyncSession, message: Message, channel: Channel, now: datetime
) -> OutboundMessage | None:
    """Re-check the rules at dispatch time and mark the message as being sent. Returns
    None when the message was failed instead."""
    tenant = TenantRef(message.workspace_id, Mode(message.mode))
    contact = await session.get(Contact, message.contact_id)
    assert contact is not None
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
        decision = await service.decide(session, tenant, channel, contact, draft, now)
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
    return OutboundMessage(
        message_id=message.id,
        recipient=message.recipient,
        content_type=message.content_type,
        content=message.content,
        template=template,
        metadata=message.extra_metadata or {},
    )


async def _record_failure(ctx: JobContext, message_id: str, error: ProviderError, attempts: int) -> None:
    settings = ctx.services.settings

    async def record() -> float | None:
        """Returns the delay before the next attempt, if there is one."""
        async with ctx.db.transaction() as session:
            loaded = await _load(session, message_id)
            assert loaded is not None
            message, channel, workspace = loaded
            now = workspace.now(Mode(message.mode))
            message.provider_call_started_at = None
            if isinstance(error, ProviderOutcomeUnknown):
                _outcome_unknown(session, message, now, settings.unknown_outcome_grace_seconds, error.message)
            elif isinstance(error, ProviderTransientError) and attempts < settings.send_max_attempts:
                delay = max(error.retry_after or 0.0, backoff(attempts))
                message.next_attempt_at = now + timedelta(seconds=delay)
                return delay
            else:
                if isinstance(error, ProviderAuthError):
                    channel.status = ChannelStatus.CREDENTIALS_REJECTED
                code = error.code if not isinstance(error, ProviderTransientError) else "retries_exhausted"
                service.fail(
                    session, message, now, code=code, text=error.message, provider_code=error.provider_code
                )
        return None

    retry_delay = await when_available(record, give_up_after=_recording_patience(ctx))
    if retry_delay is not None:
        raise RetryLater(retry_delay, f"{error.code}: {error.message}")


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
        loaded = await _load(session, payload["message_id"])
        if loaded is None:
            return
        message, _, workspace = loaded
        if message.provider_message_id is None and message.status == MessageStatus.SENDING:
            service.fail(
                session,
                message,
                workspace.now(Mode(message.mode)),
                code=UNKNOWN_OUTCOME_CODE,
                text="The provider did not confirm this send and it was not retried, to avoid a "
                "duplicate. It may or may not have been delivered; check with the customer before resending.",
            )
