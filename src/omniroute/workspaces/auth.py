"""Bearer-key authentication: resolves the workspace and mode every query is scoped by."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.core.deps import SessionDep
from omniroute.core.errors import AuthenticationError, PermissionDeniedError
from omniroute.core.rowcache import ROWS
from omniroute.core.tenancy import Mode
from omniroute.core.time import utcnow
from omniroute.idempotency import service as idempotency
from omniroute.services import services_of
from omniroute.workspaces import keys
from omniroute.workspaces.models import ApiKey, Workspace

LAST_USED_RESOLUTION = timedelta(minutes=1)

KEY_AND_WORKSPACE = (
    select(ApiKey, Workspace)
    .join(Workspace, Workspace.id == ApiKey.workspace_id)
    .where(ApiKey.key_hash == bindparam("key_hash"))
)
"""The key and its workspace in one round trip: every request needs them, so the statement
is built once (building one costs more than running a cached one) and what it finds is
kept for a moment (``core.rowcache``)."""

ROWS.register("api_key", ApiKey, "key_hash")
ROWS.register("api_key", Workspace, "*")


@dataclass(frozen=True)
class AuthContext:
    workspace: Workspace
    mode: Mode
    workspace_id: str
    key_prefix: str
    clock_offset_seconds: float
    """Plain copies, still readable after the request's session rolled back (the offset is
    the test clock's when the key was checked: it stamps the request's log entry)."""
    admin: bool = False

    @property
    def is_test(self) -> bool:
        return self.mode is Mode.TEST

    def now(self) -> datetime:
        return self.workspace.now(self.mode)


async def authenticate(request: Request, session: SessionDep) -> AuthContext:
    header = request.headers.get("authorization")
    if not header:
        raise AuthenticationError(
            "authentication_required",
            "Send your API key as 'Authorization: Bearer or_test_...'.",
        )
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError(
            "authentication_required", "Use the Bearer scheme: 'Authorization: Bearer <api key>'."
        )
    context = await resolve_key(session, token)
    request.state.auth = context
    return context


async def resolve_key(session: AsyncSession, token: str) -> AuthContext:
    """The workspace and mode an API key opens (the dashboard's session holds the key too)."""
    key_hash = keys.hash_key(token)
    found = await ROWS.get(session, "api_key", key_hash)
    if found is None:
        found = (await session.execute(KEY_AND_WORKSPACE, {"key_hash": key_hash})).first()
        if found is not None:
            ROWS.put(session, "api_key", key_hash, found)
    api_key, workspace = found if found else (None, None)
    now = utcnow()  # real time: a key is a credential, not test-mode data
    if api_key is None or workspace is None or not api_key.usable_at(now):
        problem = "is not valid" if api_key is None else "was revoked or has expired"
        raise AuthenticationError(
            "invalid_api_key",
            f"This API key {problem}. Check it, or create one with 'omniroute keys create'.",
        )
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        api_key.last_used_at = now
    return AuthContext(
        workspace=workspace,
        mode=Mode(api_key.mode),
        workspace_id=workspace.id,
        key_prefix=api_key.prefix,
        clock_offset_seconds=workspace.test_clock_offset_seconds,
        admin=api_key.admin,
    )


Auth = Annotated[AuthContext, Depends(authenticate)]


async def guard_idempotency(request: Request, auth: Auth, session: SessionDep) -> None:
    """Router-level dependency: replays or refuses a repeated ``Idempotency-Key``."""
    ttl = services_of(request).settings.idempotency_ttl
    request.state.idempotency = await idempotency.check(
        session, request, auth.workspace_id, auth.mode.value, ttl
    )


async def require_test_mode(auth: Auth) -> AuthContext:
    if not auth.is_test:
        raise PermissionDeniedError(
            "live_mode_forbidden", "Sandbox controls work only with a test key (or_test_...)."
        )
    return auth


TestAuth = Annotated[AuthContext, Depends(require_test_mode)]


async def require_admin(auth: Auth) -> AuthContext:
    if not auth.admin:
        raise PermissionDeniedError(
            "admin_key_required",
            "Only an admin key manages API keys and workspaces: create one with "
            "'omniroute keys create --mode live --admin'.",
        )
    return auth


AdminAuth = Annotated[AuthContext, Depends(require_admin)]
