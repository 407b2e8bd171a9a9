from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.channels.service import sandbox_channels
from omniroute.core.ids import new_id
from omniroute.core.tenancy import Mode
from omniroute.workspaces import keys
from omniroute.workspaces.models import ApiKey, Workspace

DEFAULT_WORKSPACE_NAME = "Default workspace"


async def create_workspace(session: AsyncSession, name: str) -> Workspace:
    """A new tenant, with its ready sandbox channel of every type in test mode."""
    workspace = Workspace(id=new_id("ws"), name=name, test_clock_offset_seconds=0.0)
    session.add(workspace)
    await session.flush()
    session.add_all(sandbox_channels(workspace.id))
    await session.flush()
    return workspace


async def default_workspace(session: AsyncSession) -> Workspace:
    """The oldest workspace, created on first use: a single-tenant install needs no set-up."""
    workspace = await session.scalar(select(Workspace).order_by(Workspace.id).limit(1))
    return workspace or await create_workspace(session, DEFAULT_WORKSPACE_NAME)


async def create_api_key(session: AsyncSession, workspace: Workspace, mode: Mode, name: str = "") -> str:
    """Store a new key's hash and return the key itself: the only time it is ever seen."""
    raw = keys.generate(mode)
    session.add(
        ApiKey(
            id=new_id("key"),
            workspace_id=workspace.id,
            mode=mode,
            name=name,
            prefix=keys.shown_prefix(raw),
            key_hash=keys.hash_key(raw),
        )
    )
    await session.flush()
    return raw
