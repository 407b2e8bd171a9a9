"""The dashboard's sign-in session, held in one cookie.

The cookie holds the API keys signed in with (at most one per mode), the mode shown and
the session's CSRF token, encrypted and authenticated with the server's secret key
(Fernet, ``core/secrets.py``): the browser sees only ciphertext, and a cookie altered,
made with other keys or older than ``MAX_AGE`` reads as signed out. Each request opens
the key again (``resolve_key``), so revoking a key signs its sessions out at once.

Flags: ``HttpOnly``; ``SameSite=Lax`` (with the CSRF token checked on every POST);
``Secure`` except over plain http to a loopback host (a local run and the tests) — over
http elsewhere the browser drops a ``Secure`` cookie, so a key is never kept on a
connection others could read."""

import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.datastructures import UploadFile

from omniroute.core.deps import SessionDep
from omniroute.core.errors import AuthenticationError, PermissionDeniedError
from omniroute.core.secrets import keyring
from omniroute.workspaces.auth import AuthContext, resolve_key

COOKIE = "omniroute_dashboard"
MAX_AGE = 12 * 3600
"""A session lasts 12 hours from sign-in; then the key is asked for again."""
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
"""A form's largest part: a campaign's CSV."""


@dataclass
class DashboardSession:
    keys: dict[str, str] = field(default_factory=dict)
    """Mode → API key."""
    mode: str | None = None
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    issued: bool = False
    """Read from a valid cookie (else new: it must be written)."""

    @property
    def key(self) -> str | None:
        return self.keys.get(self.mode) if self.mode else None

    def seal(self) -> str:
        return keyring().encrypt(json.dumps({"keys": self.keys, "mode": self.mode, "csrf": self.csrf}))


def read(request: Request) -> DashboardSession:
    cookie = request.cookies.get(COOKIE)
    opened = keyring().decrypt_recent(cookie, MAX_AGE) if cookie else None
    if opened is None:
        return DashboardSession()
    data = json.loads(opened)
    return DashboardSession(keys=dict(data["keys"]), mode=data["mode"], csrf=str(data["csrf"]), issued=True)


def is_secure(request: Request) -> bool:
    return not (request.url.scheme == "http" and (request.url.hostname or "") in LOOPBACK_HOSTS)


def write(response: Response, request: Request, session: DashboardSession) -> None:
    response.set_cookie(
        COOKIE,
        session.seal(),
        max_age=MAX_AGE,
        path="/dashboard",
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )


def forget(response: Response, request: Request) -> None:
    response.delete_cookie(
        COOKIE, path="/dashboard", httponly=True, samesite="lax", secure=is_secure(request)
    )


class SignInRequired(AuthenticationError):
    """No session, or its key no longer opens anything: the page sends the browser to sign in."""

    def __init__(self) -> None:
        super().__init__("dashboard_sign_in_required", "Sign in with an API key to see the dashboard.")


@dataclass(frozen=True)
class Viewer:
    """Who is looking: the key's workspace and mode (the ``auth`` every service call is
    scoped by), and the session (its CSRF token, the modes it can switch to)."""

    auth: AuthContext
    session: DashboardSession

    @property
    def modes(self) -> list[str]:
        return sorted(self.session.keys)


async def viewer(request: Request, db: SessionDep) -> Viewer:
    session = read(request)
    key = session.key
    if key is None:
        raise SignInRequired
    try:
        auth = await resolve_key(db, key)
    except AuthenticationError as exc:
        raise SignInRequired from exc
    request.state.dashboard_session = session
    return Viewer(auth, session)


ViewerDep = Annotated[Viewer, Depends(viewer)]


async def csrf_checked(request: Request) -> DashboardSession:
    """Every POST carries the session's CSRF token (the ``X-CSRF-Token`` header htmx sends,
    or the form's hidden field): a request forged from another site cannot know it."""
    session = read(request)
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form(max_files=1, max_part_size=MAX_UPLOAD_BYTES)
        field_value = form.get(CSRF_FIELD)
        given = field_value if isinstance(field_value, str) else None
    if not session.issued or given is None or not hmac.compare_digest(given.encode(), session.csrf.encode()):
        raise PermissionDeniedError(
            "csrf_token_invalid",
            "This form is out of date or came from another site: reload the page and try again.",
        )
    return session


CsrfChecked = Annotated[DashboardSession, Depends(csrf_checked)]


async def form_of(request: Request) -> dict[str, str]:
    """The POSTed form's text fields (read once; ``csrf_checked`` may have read it already)."""
    form = await request.form(max_files=1, max_part_size=MAX_UPLOAD_BYTES)
    return {name: value.strip() for name, value in form.items() if isinstance(value, str)}


async def upload_of(request: Request, name: str) -> UploadFile | None:
    form = await request.form(max_files=1, max_part_size=MAX_UPLOAD_BYTES)
    upload = form.get(name)
    return upload if isinstance(upload, UploadFile) and upload.filename else None
