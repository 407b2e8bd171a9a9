"""Workspaces and their API keys: the one place keys are issued, listed, revoked and
rotated, for the CLI and the admin API alike."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.channels.service import sandbox_channels
from omniroute.core.errors import ConflictError, InvalidRequestError, not_found
from omniroute.core.ids import new_id
from omniroute.core.tenancy import Mode
from omniroute.workspaces import keys
from omniroute.workspaces.models import ApiKey, Workspace

DEFAULT_WORKSPACE_NAME = "Default workspace"
MAX_ROTATION_GRACE = timedelta(days=7)
"""The longest a rotated key may keep working next to its successor."""


@dataclass(frozen=True)
class IssuedKey:
    row: ApiKey
    raw: str
    """The key itself: returned once, never stored."""


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


async def get_workspace(session: AsyncSession, workspace_id: str, *, param: str | None = None) -> Workspace:
    workspace = await session.get(Workspace, workspace_id)
    if workspace is None:
        raise not_found("workspace", workspace_id, param=param)
    return workspace


def workspaces() -> Select[Any]:
    return select(Workspace)


async def issue_api_key(
    session: AsyncSession, workspace: Workspace, mode: Mode, name: str = "", *, admin: bool = False
) -> IssuedKey:
    """Store a new key's hash; the returned raw key is the only time it is ever seen."""
    if admin and mode is not Mode.LIVE:
        raise InvalidRequestError(
            "parameter_invalid",
            "Only a live key can be an admin key: test keys are for experiments and sandboxes.",
            param="admin",
        )
    raw = keys.generate(mode)
    row = ApiKey(
        id=new_id("key"),
        workspace_id=workspace.id,
        mode=mode,
        name=name,
        prefix=keys.shown_prefix(raw),
        key_hash=keys.hash_key(raw),
        admin=admin,
    )
    session.add(row)
    await session.flush()
    return IssuedKey(row, raw)


async def create_api_key(
    session: AsyncSession, workspace: Workspace, mode: Mode, name: str = "", *, admin: bool = False
) -> str:
    """Issue a key and return only the key itself."""
    return (await issue_api_key(session, workspace, mode, name, admin=admin)).raw


async def admin_by_default(session: AsyncSession, workspace: Workspace, mode: Mode, now: datetime) -> bool:
    """The first live key of the default workspace is an admin key while the install has
    none that works: whoever installed omniroute can then administer it over the API."""
    if mode is not Mode.LIVE or workspace.id != (await default_workspace(session)).id:
        return False
    admin_keys = (await session.scalars(select(ApiKey).where(ApiKey.admin.is_(True)))).all()
    return not any(key.usable_at(now) for key in admin_keys)


def api_keys(workspace_id: str) -> Select[Any]:
    return select(ApiKey).where(ApiKey.workspace_id == workspace_id)


async def get_api_key(session: AsyncSession, key_id: str) -> ApiKey:
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise not_found("API key", key_id)
    return key


def revoke_api_key(key: ApiKey, now: datetime) -> None:
    """The key stops working at once (revoking a revoked key changes nothing)."""
    if key.revoked_at is None:
        key.revoked_at = now


async def rotate_api_key(session: AsyncSession, key: ApiKey, now: datetime, grace: timedelta) -> IssuedKey:
    """A new key with the same workspace, mode, name and rights; the old one keeps working
    for ``grace`` (zero: it is revoked now) so deployed clients can be switched over."""
    if not key.usable_at(now):
        raise ConflictError("api_key_revoked", f"API key {key.id} no longer works, so it cannot be rotated.")
    workspace = await get_workspace(session, key.workspace_id)
    issued = await issue_api_key(session, workspace, Mode(key.mode), key.name, admin=key.admin)
    if grace:
        key.expires_at = min(now + grace, key.expires_at or now + grace)
    else:
        revoke_api_key(key, now)
    return issued
