"""Workspace settings, and the admin key's management of API keys and workspaces.

A workspace's name is the business's; behaviour settings are per mode, so a test key's
experiments never change what live customers get. Managing keys and workspaces is an
operator's job: those routes answer only an admin key (403 ``admin_key_required``)."""

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.campaigns.service import FREQUENCY_CAP_SETTING, frequency_cap_hours
from omniroute.conversations.tasks import expiring_lead
from omniroute.core.deps import SessionDep
from omniroute.core.http import api_router
from omniroute.core.openapi import error_responses
from omniroute.core.pagination import Page, PageParams, page_params, paginate
from omniroute.core.tenancy import Mode
from omniroute.core.time import utcnow
from omniroute.idempotency import service as idempotency
from omniroute.workspaces import service
from omniroute.workspaces.auth import AdminAuth, Auth
from omniroute.workspaces.models import ApiKey, Workspace
from omniroute.workspaces.schemas import (
    ApiKeyCreate,
    ApiKeyOut,
    ApiKeyRotate,
    ApiKeyWithSecret,
    WorkspaceCreate,
    WorkspaceOut,
    WorkspaceSummary,
    WorkspaceUpdate,
)

router = api_router(prefix="/workspace", tags=["workspace"])
admin_router = api_router(tags=["administration"], responses=error_responses(403))


def _out(workspace: Workspace, mode: Mode) -> WorkspaceOut:
    return WorkspaceOut(
        id=workspace.id,
        name=workspace.name,
        mode=mode,
        window_expiring_lead_seconds=int(expiring_lead(workspace, mode).total_seconds()),
        window_expiring_lead_is_default=workspace.window_expiring_lead_seconds(mode) is None,
        marketing_frequency_cap_hours=frequency_cap_hours(workspace, mode),
        marketing_frequency_cap_is_default=workspace.setting(FREQUENCY_CAP_SETTING, mode) is None,
        created_at=workspace.created_at,
    )


@router.get("", summary="This workspace's settings")
async def get_workspace(auth: Auth) -> WorkspaceOut:
    return _out(auth.workspace, auth.mode)


@router.patch("", summary="Change this workspace's settings")
async def update_workspace(body: WorkspaceUpdate, auth: Auth, session: SessionDep) -> WorkspaceOut:
    workspace = auth.workspace
    if body.name is not None:
        workspace.name = body.name
    if "window_expiring_lead_seconds" in body.model_fields_set:
        workspace.set_window_expiring_lead_seconds(auth.mode, body.window_expiring_lead_seconds)
    if "marketing_frequency_cap_hours" in body.model_fields_set:
        workspace.set_setting(FREQUENCY_CAP_SETTING, auth.mode, body.marketing_frequency_cap_hours)
    await session.flush()
    return _out(workspace, auth.mode)


@admin_router.get("/workspaces", summary="List every workspace (admin key)")
async def list_workspaces(
    _: AdminAuth, session: SessionDep, page: Annotated[PageParams, Depends(page_params)]
) -> Page[WorkspaceSummary]:
    rows, has_more, cursor = await paginate(session, service.workspaces(), Workspace.id, page)
    return Page(
        data=[WorkspaceSummary.model_validate(w) for w in rows], has_more=has_more, next_cursor=cursor
    )


@admin_router.post("/workspaces", status_code=201, summary="Create a workspace (admin key)")
async def create_workspace(body: WorkspaceCreate, _: AdminAuth, session: SessionDep) -> WorkspaceSummary:
    return WorkspaceSummary.model_validate(await service.create_workspace(session, body.name))


@admin_router.get("/api-keys", summary="List a workspace's API keys (admin key)")
async def list_api_keys(
    auth: AdminAuth,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
    workspace_id: Annotated[
        str | None, Query(max_length=40, description="Default: the admin key's own workspace.")
    ] = None,
) -> Page[ApiKeyOut]:
    workspace = await _workspace(session, workspace_id or auth.workspace_id)
    rows, has_more, cursor = await paginate(session, service.api_keys(workspace.id), ApiKey.id, page)
    now = utcnow()
    return Page(data=[ApiKeyOut.of(k, now) for k in rows], has_more=has_more, next_cursor=cursor)


@admin_router.post("/api-keys", status_code=201, summary="Create an API key (shown only now; admin key)")
async def create_api_key(
    request: Request, body: ApiKeyCreate, auth: AdminAuth, session: SessionDep
) -> ApiKeyWithSecret:
    idempotency.withhold(request, "key")
    workspace = await _workspace(session, body.workspace_id or auth.workspace_id)
    issued = await service.issue_api_key(session, workspace, body.mode, body.name, admin=body.admin)
    return ApiKeyWithSecret.issued(issued, utcnow())


@admin_router.get("/api-keys/{key_id}", summary="Fetch an API key (admin key)")
async def get_api_key(key_id: str, _: AdminAuth, session: SessionDep) -> ApiKeyOut:
    return ApiKeyOut.of(await service.get_api_key(session, key_id), utcnow())


@admin_router.post(
    "/api-keys/{key_id}/revoke", summary="Revoke an API key: it stops working at once (admin key)"
)
async def revoke_api_key(key_id: str, _: AdminAuth, session: SessionDep) -> ApiKeyOut:
    key = await service.get_api_key(session, key_id)
    now = utcnow()
    service.revoke_api_key(key, now)
    await session.flush()
    return ApiKeyOut.of(key, now)


@admin_router.post(
    "/api-keys/{key_id}/rotate",
    status_code=201,
    summary="Replace an API key with a new one (shown only now); the old one works for the grace period",
)
async def rotate_api_key(
    request: Request, key_id: str, _: AdminAuth, session: SessionDep, body: ApiKeyRotate | None = None
) -> ApiKeyWithSecret:
    idempotency.withhold(request, "key")
    key = await service.get_api_key(session, key_id)
    grace = timedelta(seconds=(body or ApiKeyRotate()).grace_period_seconds)
    now = utcnow()
    issued = await service.rotate_api_key(session, key, now, grace)
    return ApiKeyWithSecret.issued(issued, now)


async def _workspace(session: AsyncSession, workspace_id: str) -> Workspace:
    return await service.get_workspace(session, workspace_id, param="workspace_id")
