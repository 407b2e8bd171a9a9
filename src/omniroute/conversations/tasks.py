"""Window timers: ``conversation.window_expiring`` a configurable time before a window
closes and ``conversation.window_closed`` when it does.

Each conversation has at most one job of each kind, under a fixed id, so a customer
writing again moves the timers instead of adding more. The jobs are test-mode jobs in
test mode, so they follow the sandbox clock. A timer that fires for a window that has
since moved (it raced with a refresh) finds a different expiry and does nothing."""

import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.config import get_settings
from omniroute.contacts.models import Contact
from omniroute.conversations.models import Conversation
from omniroute.conversations.schemas import ConversationOut
from omniroute.conversations.service import window_of
from omniroute.core.tenancy import Mode
from omniroute.core.time import rfc3339
from omniroute.events import service as events
from omniroute.events.types import EventType
from omniroute.jobs import queue
from omniroute.jobs.models import Job
from omniroute.jobs.registry import JobContext, task
from omniroute.workspaces.models import Workspace

EXPIRING_JOB = "conversations.window_expiring"
CLOSED_JOB = "conversations.window_closed"
_JOB_ID_PREFIXES = {EXPIRING_JOB: "job_wexp_", CLOSED_JOB: "job_wcls_"}


def expiring_lead(workspace: Workspace, mode: Mode) -> timedelta:
    """The workspace's own lead time in ``mode``, or the operator's default."""
    seconds = workspace.window_expiring_lead_seconds(mode)
    return timedelta(seconds=seconds if seconds is not None else get_settings().window_expiring_lead_seconds)


def record_window_event(
    session: AsyncSession, conversation: Conversation, contact: Contact, type: EventType, at: datetime
) -> None:
    """An event whose data is the conversation as ``GET /v1/conversations/{id}`` shows it at ``at``."""
    data = ConversationOut.of(conversation, contact, window_of(conversation, at))
    events.record(
        session,
        conversation,
        type,
        data.model_dump(mode="json"),
        at=at,
        conversation_id=conversation.id,
        channel_id=conversation.channel_id,
    )


async def window_moved(
    session: AsyncSession, conversation: Conversation, contact: Contact, *, opened: bool
) -> None:
    """The customer wrote: record the opening (if the window was closed) and (re)schedule
    both timers for the new expiry."""
    assert conversation.last_inbound_at is not None and conversation.window_expires_at is not None
    if opened:
        record_window_event(
            session, conversation, contact, EventType.WINDOW_OPENED, conversation.last_inbound_at
        )
    workspace = await session.get(Workspace, conversation.workspace_id)
    assert workspace is not None
    mode = Mode(conversation.mode)
    now = workspace.now(mode)
    expires_at = conversation.window_expires_at
    if expires_at <= now:
        return
    await _schedule(session, EXPIRING_JOB, conversation, expires_at - expiring_lead(workspace, mode), now)
    await _schedule(session, CLOSED_JOB, conversation, expires_at, now)


async def _schedule(
    session: AsyncSession, kind: str, conversation: Conversation, at: datetime, now: datetime
) -> None:
    job_id = _JOB_ID_PREFIXES[kind] + conversation.id
    payload = {"conversation_id": conversation.id, "expires_at": rfc3339(conversation.window_expires_at)}
    delay = max(0.0, (at - now).total_seconds())
    # One statement, not read-then-write: a worker may be finishing (deleting) this job
    # right now. Releasing the lease keeps a run in progress from deleting the moved job.
    moved = await session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(
            payload=payload,
            run_at=time.time() + delay,
            locked_by=None,
            locked_until=None,
            attempts=0,
            dead=False,
        )
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount == 0:  # type: ignore[attr-defined]
        queue.enqueue(
            session,
            kind,
            payload,
            delay=delay,
            workspace_id=conversation.workspace_id,
            mode=Mode(conversation.mode),
            job_id=job_id,
        )


async def _fire(ctx: JobContext, payload: dict[str, Any], type: EventType) -> None:
    async with ctx.db.transaction() as session:
        conversation = await session.get(Conversation, payload["conversation_id"])
        if conversation is None or rfc3339(conversation.window_expires_at) != payload["expires_at"]:
            return  # the window moved (or the conversation is gone): this timer is stale
        workspace = await session.get(Workspace, conversation.workspace_id)
        contact = await session.get(Contact, conversation.contact_id)
        assert workspace is not None and contact is not None and conversation.window_expires_at is not None
        now = workspace.now(Mode(conversation.mode))
        if type is EventType.WINDOW_CLOSED:
            record_window_event(session, conversation, contact, type, conversation.window_expires_at)
        elif now < conversation.window_expires_at:  # a reminder that comes too late is not sent
            record_window_event(session, conversation, contact, type, now)


@task(EXPIRING_JOB)
async def window_expiring(ctx: JobContext, payload: dict[str, Any]) -> None:
    await _fire(ctx, payload, EventType.WINDOW_EXPIRING)


@task(CLOSED_JOB)
async def window_closed(ctx: JobContext, payload: dict[str, Any]) -> None:
    await _fire(ctx, payload, EventType.WINDOW_CLOSED)
