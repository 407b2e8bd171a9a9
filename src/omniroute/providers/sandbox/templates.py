"""The sandbox's own template store (the simulated Meta side): written when omniroute
submits, edits or deletes a template, and directly by the test-mode control
``POST /v1/sandbox/templates`` (a template made "in Meta's UI"). Meta's review is
played by a job on the workspace's test clock."""

import secrets
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.channels.models import Channel
from omniroute.core.tenancy import Mode
from omniroute.jobs.queue import enqueue
from omniroute.policy.templates import TemplateStatus
from omniroute.providers.base import ChannelRef, ProviderTemplate, TemplateDefinition
from omniroute.providers.sandbox.models import SandboxTemplate

REVIEW_JOB = "sandbox.review_template"
PAGE_SIZE = 2
"""The sandbox lists templates in small pages, so clients exercise pagination."""


def new_template_id() -> str:
    return f"sbx_tpl_{secrets.randbelow(10**15):015d}"


async def find(session: AsyncSession, channel_id: str, name: str, language: str) -> SandboxTemplate | None:
    return await session.scalar(
        select(SandboxTemplate).where(
            SandboxTemplate.channel_id == channel_id,
            SandboxTemplate.name == name,
            SandboxTemplate.language == language,
        )
    )


async def put(
    session: AsyncSession,
    channel: Channel | ChannelRef,
    definition: TemplateDefinition,
    *,
    status: TemplateStatus,
    quality_score: str | None = None,
) -> SandboxTemplate:
    """Create the template at "Meta", or replace its definition and status."""
    row = await find(session, channel.id, definition.name, definition.language)
    if row is None:
        row = SandboxTemplate(
            id=new_template_id(),
            workspace_id=channel.workspace_id,
            mode=Mode(channel.mode),
            channel_id=channel.id,
            name=definition.name,
            language=definition.language,
        )
        session.add(row)
    row.category = definition.category
    row.components = definition.components
    row.status = status
    row.rejection_reason = None
    row.quality_score = quality_score
    await session.flush()
    return row


def schedule_review(session: AsyncSession, row: SandboxTemplate, delay: float) -> None:
    enqueue(session, REVIEW_JOB, {"provider_template_id": row.id}, delay=delay, **_tenant(row))


def _tenant(row: SandboxTemplate) -> dict[str, Any]:
    return {"workspace_id": row.workspace_id, "mode": Mode(row.mode)}


async def remove(session: AsyncSession, channel_id: str, name: str, provider_template_id: str | None) -> int:
    """Delete one template by id, or every language of a name (as Meta does)."""
    statement = delete(SandboxTemplate).where(SandboxTemplate.channel_id == channel_id)
    if provider_template_id is not None:
        statement = statement.where(SandboxTemplate.id == provider_template_id)
    else:
        statement = statement.where(SandboxTemplate.name == name)
    result = await session.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def page(
    session: AsyncSession, channel_id: str, after: str | None
) -> tuple[list[ProviderTemplate], str | None]:
    """One page of the channel's templates and the cursor of the next (None on the last)."""
    statement = select(SandboxTemplate).where(SandboxTemplate.channel_id == channel_id)
    if after is not None:
        statement = statement.where(SandboxTemplate.id > after)
    rows = list(await session.scalars(statement.order_by(SandboxTemplate.id).limit(PAGE_SIZE + 1)))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return [as_provider_template(r) for r in rows], rows[-1].id if more else None


def as_provider_template(row: SandboxTemplate) -> ProviderTemplate:
    return ProviderTemplate(
        provider_template_id=row.id,
        name=row.name,
        language=row.language,
        category=row.category,
        status=row.status,
        components=row.components,
        rejection_reason=row.rejection_reason,
        quality_score=row.quality_score,
    )
