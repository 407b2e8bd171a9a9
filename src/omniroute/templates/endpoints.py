from typing import Annotated

from fastapi import Depends, Query, Request

from omniroute.channels import service as channels
from omniroute.channels.models import ChannelType
from omniroute.core.deps import SessionDep, end_transaction_before_provider_call
from omniroute.core.errors import InvalidRequestError, ProviderFailure
from omniroute.core.http import api_router
from omniroute.core.openapi import error_responses
from omniroute.core.pagination import Page, PageParams, page_params, paginate
from omniroute.policy.templates import TemplateStatus
from omniroute.providers.errors import ProviderError
from omniroute.services import ServicesDep, wake_workers_after_commit
from omniroute.templates import service
from omniroute.templates.lint import lint
from omniroute.templates.models import Template
from omniroute.templates.schemas import LintOut, TemplateCreate, TemplateEdit, TemplateOut, TemplateSyncOut
from omniroute.workspaces.auth import Auth

router = api_router(tags=["templates"])


@router.post("/channels/{channel_id}/templates", status_code=201, summary="Submit a template for review")
async def create_template(
    channel_id: str, body: TemplateCreate, auth: Auth, session: SessionDep, request: Request
) -> TemplateOut:
    channel = await channels.get(session, auth, channel_id)
    template = await service.create(session, auth, channel, body)
    wake_workers_after_commit(request)
    return service.to_out(template, await service.history(session, template))


@router.get("/channels/{channel_id}/templates", summary="Fetch channel templates")
async def list_templates(
    channel_id: str,
    auth: Auth,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
    status: Annotated[TemplateStatus | None, Query()] = None,
    name: Annotated[str | None, Query(max_length=512)] = None,
    language: Annotated[str | None, Query(max_length=16)] = None,
) -> Page[TemplateOut]:
    channel = await channels.get(session, auth, channel_id)
    statement = service.scoped(auth).where(Template.channel_id == channel.id)
    if status is not None:
        statement = statement.where(Template.status == status)
    if name is not None:
        statement = statement.where(Template.name == name)
    if language is not None:
        statement = statement.where(Template.language == language)
    rows, has_more, cursor = await paginate(session, statement, Template.id, page)
    return Page(data=[service.to_out(t) for t in rows], has_more=has_more, next_cursor=cursor)


@router.post(
    "/channels/{channel_id}/templates/sync",
    summary="Pull the provider's template list",
    responses=error_responses(502),
)
async def sync_templates(
    channel_id: str, auth: Auth, session: SessionDep, services: ServicesDep, request: Request
) -> TemplateSyncOut:
    """Reconcile the channel's templates with every template the provider holds: new ones
    are created, changed ones updated (with history and events), ones gone marked DELETED."""
    channel = await channels.get(session, auth, channel_id)
    if channel.type != ChannelType.WHATSAPP:
        raise InvalidRequestError(
            "channel_type_unsupported", "Templates exist only on WhatsApp channels.", param="channel_id"
        )
    provider = services.providers.whatsapp(channel)
    await end_transaction_before_provider_call(session)
    try:
        listed = await provider.list_templates()
    except ProviderError as exc:
        raise ProviderFailure(
            "provider_unavailable",
            f"The provider's template list could not be read: {exc.message} Try again.",
        ) from exc
    counts = await service.sync(session, auth, channel, listed)
    wake_workers_after_commit(request)
    rows = await session.scalars(
        service.scoped(auth).where(Template.channel_id == channel.id).order_by(Template.id)
    )
    return TemplateSyncOut(**counts, data=[service.to_out(t) for t in rows])


@router.post("/templates/lint", summary="Lint a template without submitting it")
async def lint_template(body: TemplateCreate, auth: Auth) -> LintOut:
    return LintOut.model_validate(lint(body.definition()).as_dict())


@router.get("/templates/{template_id}", summary="Fetch a template")
async def get_template(template_id: str, auth: Auth, session: SessionDep) -> TemplateOut:
    template = await service.get(session, auth, template_id)
    return service.to_out(template, await service.history(session, template))


@router.post("/templates/{template_id}", summary="Edit a template (new components, reviewed again)")
async def edit_template(
    template_id: str, body: TemplateEdit, auth: Auth, session: SessionDep, request: Request
) -> TemplateOut:
    template = await service.edit(session, auth, await service.get(session, auth, template_id), body)
    wake_workers_after_commit(request)
    return service.to_out(template, await service.history(session, template))


@router.delete("/templates/{template_id}", summary="Delete a template")
async def delete_template(template_id: str, auth: Auth, session: SessionDep, request: Request) -> TemplateOut:
    template = await service.delete(session, auth, await service.get(session, auth, template_id))
    await session.flush()
    wake_workers_after_commit(request)
    return service.to_out(template, await service.history(session, template))
