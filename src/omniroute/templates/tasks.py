"""Background work for templates: submission, edits and deletion at the provider, and
the end of a quality pause."""

from collections.abc import Awaitable, Callable
from typing import Any

from omniroute.channels.models import Channel
from omniroute.core.tenancy import Mode
from omniroute.jobs.registry import JobContext, RetryLater, task
from omniroute.policy.templates import TemplateStatus
from omniroute.providers.base import SubmittedTemplate, TemplateDefinition, WhatsAppProvider
from omniroute.providers.errors import ProviderError, ProviderTransientError
from omniroute.templates.models import Template
from omniroute.templates.service import DELETE_JOB, EDIT_JOB, SUBMIT_JOB, UNPAUSE_JOB, record_status
from omniroute.workspaces.models import Workspace

Submission = Callable[[WhatsAppProvider, Template, TemplateDefinition], Awaitable[SubmittedTemplate]]


async def _load(ctx: JobContext, template_id: str) -> tuple[Template, Channel, Workspace] | None:
    async with ctx.db.sessionmaker() as session:
        template = await session.get(Template, template_id)
        if template is None:
            return None
        channel = await session.get(Channel, template.channel_id)
        workspace = await session.get(Workspace, template.workspace_id)
        assert channel is not None and workspace is not None
        return template, channel, workspace


async def _submit(ctx: JobContext, template_id: str, call: Submission, *, edit: bool) -> None:
    """Hand the template's current definition to the provider (a first submission, or an
    edit of one the provider holds); the verdict comes later as a review event. A final
    refusal rejects the template with the provider's message."""
    loaded = await _load(ctx, template_id)
    if loaded is None:
        return
    template, channel, workspace = loaded
    if template.status != TemplateStatus.PENDING or (template.provider_template_id is not None) != edit:
        return
    definition = TemplateDefinition(
        template.name,
        template.language,
        template.category,
        template.components,
        template.message_send_ttl_seconds,
    )
    try:
        submitted = await call(ctx.services.providers.whatsapp(channel), template, definition)
    except ProviderTransientError as exc:
        raise RetryLater(exc.retry_after or 30.0, exc.message) from exc
    except ProviderError as exc:
        async with ctx.db.transaction() as session:
            current = await session.get(Template, template.id)
            assert current is not None
            record_status(session, current, TemplateStatus.REJECTED, workspace.now(channel.mode), exc.message)
        return
    async with ctx.db.transaction() as session:
        current = await session.get(Template, template.id)
        assert current is not None
        current.provider_template_id = current.provider_template_id or submitted.provider_template_id


@task(SUBMIT_JOB)
async def submit_template(ctx: JobContext, payload: dict[str, Any]) -> None:
    async def submit(
        provider: WhatsAppProvider, template: Template, definition: TemplateDefinition
    ) -> SubmittedTemplate:
        return await provider.submit_template(definition)

    await _submit(ctx, payload["template_id"], submit, edit=False)


@task(EDIT_JOB)
async def edit_template(ctx: JobContext, payload: dict[str, Any]) -> None:
    async def submit_edit(
        provider: WhatsAppProvider, template: Template, definition: TemplateDefinition
    ) -> SubmittedTemplate:
        assert template.provider_template_id is not None
        return await provider.edit_template(template.provider_template_id, definition)

    await _submit(ctx, payload["template_id"], submit_edit, edit=True)


@task(DELETE_JOB)
async def delete_template(ctx: JobContext, payload: dict[str, Any]) -> None:
    loaded = await _load(ctx, payload["template_id"])
    if loaded is None:
        return
    template, channel, workspace = loaded
    if template.status == TemplateStatus.DELETED:
        return
    try:
        await ctx.services.providers.whatsapp(channel).delete_template(
            template.name, template.provider_template_id
        )
    except ProviderTransientError as exc:
        raise RetryLater(exc.retry_after or 30.0, exc.message) from exc
    async with ctx.db.transaction() as session:
        current = await session.get(Template, template.id)
        assert current is not None
        record_status(session, current, TemplateStatus.DELETED, workspace.now(channel.mode))


@task(UNPAUSE_JOB)
async def unpause_template(ctx: JobContext, payload: dict[str, Any]) -> None:
    """A quality pause ended: the template is APPROVED again (unless something else
    happened to it meanwhile)."""
    async with ctx.db.transaction() as session:
        template = await session.get(Template, payload["template_id"], with_for_update=True)
        if template is None or template.status != TemplateStatus.PAUSED or template.paused_until is None:
            return
        workspace = await session.get(Workspace, template.workspace_id)
        assert workspace is not None
        now = workspace.now(Mode(template.mode))
        if template.paused_until > now:
            raise RetryLater((template.paused_until - now).total_seconds(), "the pause has not ended yet")
        record_status(session, template, TemplateStatus.APPROVED, now, "The quality pause ended.")
