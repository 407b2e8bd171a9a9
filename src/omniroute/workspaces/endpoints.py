"""Workspace settings (shared by both modes: they describe the business, not its data)."""

from omniroute.conversations.tasks import expiring_lead
from omniroute.core.deps import SessionDep
from omniroute.core.http import api_router
from omniroute.workspaces.auth import Auth
from omniroute.workspaces.models import Workspace
from omniroute.workspaces.schemas import WorkspaceOut, WorkspaceUpdate

router = api_router(prefix="/workspace", tags=["workspace"])


def _out(workspace: Workspace) -> WorkspaceOut:
    return WorkspaceOut(
        id=workspace.id,
        name=workspace.name,
        window_expiring_lead_seconds=int(expiring_lead(workspace).total_seconds()),
        window_expiring_lead_is_default=workspace.window_expiring_lead_seconds is None,
        created_at=workspace.created_at,
    )


@router.get("", summary="This workspace's settings")
async def get_workspace(auth: Auth) -> WorkspaceOut:
    return _out(auth.workspace)


@router.patch("", summary="Change this workspace's settings")
async def update_workspace(body: WorkspaceUpdate, auth: Auth, session: SessionDep) -> WorkspaceOut:
    workspace = auth.workspace
    if body.name is not None:
        workspace.name = body.name
    if "window_expiring_lead_seconds" in body.model_fields_set:
        workspace.window_expiring_lead_seconds = body.window_expiring_lead_seconds
    await session.flush()
    return _out(workspace)
