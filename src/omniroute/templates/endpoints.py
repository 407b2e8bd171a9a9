from typing import Annotated

from fastapi import Depends, Query, Request

from omniroute.channels import service as channels
from omniroute.core.deps import SessionDep
from omniroute.core.http import api_router
from omniroute.core.pagination import Page, PageParams, page_params, paginate
from omniroute.policy.templates import TemplateStatus
from omniroute.services import wake_workers_after_commit
from omniroute.templates import service
from omniroute.templates.lint import lint
from omniroute.templates.models import Template
from omniroute.templates.schemas import LintOut, TemplateCreate, TemplateOut
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


@router.post("/templates/lint", summary="Lint a template without submitting it")
async def lint_template(body: TemplateCreate, auth: Auth) -> LintOut:
    return LintOut.model_validate(lint(body.definition()).as_dict())


@router.get("/templates/{template_id}", summary="Fetch a template")
async def get_template(template_id: str, auth: Auth, session: SessionDep) -> TemplateOut:
    template = await service.get(session, auth, template_id)
    return service.to_out(template, await service.history(session, template))


@router.delete("/templates/{template_id}", summary="Delete a template")
async def delete_template(template_id: str, auth: Auth, session: SessionDep, request: Request) -> TemplateOut:
    template = await service.delete(session, auth, await service.get(session, auth, template_id))
    await session.flush()
    wake_workers_after_commit(request)
    return service.to_out(template, await service.history(session, template))
