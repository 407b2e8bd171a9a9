"""The jobs that move a verification on: a message of it was delivered or failed
(``follow``, enqueued by the status hook below), its current attempt got no delivery
receipt in time, or it expired. Each locks the verification, so they never interleave."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.config import Settings
from omniroute.core.tenancy import Mode
from omniroute.jobs import queue
from omniroute.jobs.registry import JobContext, task
from omniroute.messages import hooks
from omniroute.messages.models import Message, MessageStatus
from omniroute.verifications import service
from omniroute.verifications.models import Verification
from omniroute.workspaces.models import Workspace

FOLLOWED = frozenset({MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ, MessageStatus.FAILED})


@hooks.follow_status
def message_status_changed(session: AsyncSession, message: Message, at: datetime) -> None:
    """An OTP message (its reference is its verification's id) was sent, delivered or
    failed: the verification follows it in a job, after this change commits."""
    if not (message.reference or "").startswith(service.ID_PREFIX) or message.status not in FOLLOWED:
        return
    queue.enqueue(
        session,
        service.FOLLOW_JOB,
        {"verification_id": message.reference, "message_id": message.id},
        priority=queue.PRIORITY_HIGH,
        workspace_id=message.workspace_id,
        mode=Mode(message.mode),
    )


hooks.reveal_outbound(service.reveal)


async def _locked(session: AsyncSession, payload: dict[str, Any]) -> tuple[Verification, datetime] | None:
    verification = await session.scalar(
        select(Verification).where(Verification.id == payload["verification_id"]).with_for_update()
    )
    if verification is None:
        return None
    workspace = await session.get(Workspace, verification.workspace_id)
    assert workspace is not None
    return verification, workspace.now(Mode(verification.mode))


MessageStep = Callable[[AsyncSession, Verification, Settings, Message, datetime], Awaitable[None]]


async def _about_message(ctx: JobContext, payload: dict[str, Any], step: MessageStep) -> None:
    """Run ``step`` on the locked verification and the message the job is about."""
    async with ctx.db.transaction() as session:
        found = await _locked(session, payload)
        if found is None:
            return
        verification, now = found
        message = await session.scalar(
            select(Message).where(
                Message.id == payload["message_id"], Message.workspace_id == verification.workspace_id
            )
        )
        if message is not None:
            await step(session, verification, ctx.services.settings, message, now)


@task(service.FOLLOW_JOB)
async def follow(ctx: JobContext, payload: dict[str, Any]) -> None:
    await _about_message(ctx, payload, service.follow)


@task(service.TIMEOUT_JOB)
async def delivery_timeout(ctx: JobContext, payload: dict[str, Any]) -> None:
    await _about_message(ctx, payload, service.delivery_timed_out)


@task(service.EXPIRE_JOB)
async def expire(ctx: JobContext, payload: dict[str, Any]) -> None:
    async with ctx.db.transaction() as session:
        found = await _locked(session, payload)
        if found is not None:
            await service.still_pending(session, *found)
