"""Jinja2 rendering for the dashboard, and the route class that turns the contract's
errors into pages: a sign-in page for 401, a readable message for anything else."""

import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from omniroute.core.http import TransactionalRoute
from omniroute.dashboard.session import CSRF_FIELD, Viewer

PACKAGE = Path(__file__).parent
LOGIN_PATH = "/dashboard/login"

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str


NAV: list[NavItem] = [
    NavItem("/dashboard", "Overview"),
    NavItem("/dashboard/conversations", "Conversations"),
    NavItem("/dashboard/messages", "Messages"),
    NavItem("/dashboard/templates", "Templates"),
    NavItem("/dashboard/campaigns", "Campaigns"),
    NavItem("/dashboard/channels", "Channels"),
    NavItem("/dashboard/webhooks", "Webhooks"),
    NavItem("/dashboard/verifications", "Verifications"),
    NavItem("/dashboard/usage", "Usage"),
    NavItem("/dashboard/logs", "Logs"),
]
"""The navigation, in order. A new page adds its item here (``NAV.insert``); a plain list
renders ``list.html`` with a ``Table`` (as the webhook endpoints page does)."""


@dataclass(frozen=True)
class Link:
    text: str
    href: str


Cell = str | int | Link | None


@dataclass(frozen=True)
class Table:
    """A plain list page's table (``list.html``): a caption, column names and rows."""

    caption: str
    columns: list[str]
    rows: list[list[Cell]]
    empty: str = "Nothing yet."


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "—"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    whole = max(int(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


environment = Environment(
    loader=FileSystemLoader(PACKAGE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["when"] = _when
environment.filters["duration"] = _duration


def fragment(name: str, **context: Any) -> str:
    return environment.get_template(name).render(**context)


def page(
    request: Request, name: str, viewer: Viewer | None, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    html = environment.get_template(name).render(
        request=request,
        viewer=viewer,
        csrf=viewer.session.csrf if viewer else getattr(request.state, "csrf", ""),
        csrf_field=CSRF_FIELD,
        nav=NAV,
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def redirect(request: Request, to: str) -> Response:
    """After a POST: htmx follows ``HX-Redirect``; a plain form follows the 303."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": to})
    return RedirectResponse(to, status_code=303)


class DashboardRoute(TransactionalRoute):
    """A transactional route whose errors are HTML: signed out → the sign-in page; any
    other error → its message, as a fragment for htmx (swapped in place of the form's
    result) or as a page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def dashboard_handler(request: Request) -> Response:
            response = await handler(request)
            if response.status_code == 401:
                response = redirect(request, LOGIN_PATH)
            elif response.status_code >= 400 and response.media_type == "application/json":
                error = json.loads(bytes(response.body))["error"]
                if is_htmx(request):  # shown in the page's alert region, the form left as it is
                    html = fragment("_error.html", error=error)
                    response = HTMLResponse(
                        html,
                        status_code=response.status_code,
                        headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"},
                    )
                else:
                    response = page(
                        request, "error.html", None, status_code=response.status_code, error=error
                    )
            response.headers.update(SECURITY_HEADERS)
            return response

        return dashboard_handler
