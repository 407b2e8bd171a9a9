"""Workspace settings. The name is the business's; behaviour settings are per mode, so a
test key's experiments never change what live customers get."""

from omniroute.conversations.tasks import expiring_lead
from omniroute.core.deps import SessionDep
from omniroute.core.http import api_router
from omniroute.core.tenancy import Mode
from omniroute.workspaces.auth import Auth
from omniroute.workspaces.models import Workspace
from omniroute.workspaces.schemas import WorkspaceOut, WorkspaceUpdate

router = api_router(prefix="/workspace", tags=["workspace"])


def _out(workspace: Workspace, mode: Mode) -> WorkspaceOut:
    return WorkspaceOut(
        id=workspace.id,
        name=workspace.name,
        mode=mode,
        window_expiring_lead_seconds=int(expiring_lead(workspace, mode).total_seconds()),
        window_expiring_lead_is_default=workspace.window_expiring_lead_seconds(mode) is None,
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
    await session.flush()
    return _out(workspace, auth.mode)
