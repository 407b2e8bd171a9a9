"""Background work for templates: submission to and deletion at the provider."""

from typing import Any

from omniroute.channels.models import Channel
from omniroute.jobs.registry import JobContext, RetryLater, task
from omniroute.policy.templates import TemplateStatus
from omniroute.providers.base import TemplateDefinition
from omniroute.providers.errors import ProviderError, ProviderTransientError
from omniroute.templates.models import Template
from omniroute.templates.service import DELETE_JOB, SUBMIT_JOB, record_status
from omniroute.workspaces.models import Workspace


async def _load(ctx: JobContext, template_id: str) -> tuple[Template, Channel, Workspace] | None:
    async with ctx.db.sessionmaker() as session:
        template = await session.get(Template, template_id)
        if template is None:
            return None
        channel = await session.get(Channel, template.channel_id)
        workspace = await session.get(Workspace, template.workspace_id)
        assert channel is not None and workspace is not None
        return template, channel, workspace


@task(SUBMIT_JOB)
async def submit_template(ctx: JobContext, payload: dict[str, Any]) -> None:
    loaded = await _load(ctx, payload["template_id"])
    if loaded is None:
        return
    template, channel, workspace = loaded
    if template.provider_template_id is not None or template.status != TemplateStatus.PENDING:
        return
    provider = ctx.services.providers.whatsapp(channel)
    definition = TemplateDefinition(template.name, template.language, template.category, template.components)
    try:
        submitted = await provider.submit_template(definition)
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
