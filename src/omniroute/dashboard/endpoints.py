"""``/dashboard``: the pages. Each handler reads or changes through the domain services
(the same calls the API's endpoints make) with the viewer's ``auth``, so tenancy, modes
and every rule hold exactly as in the API; forms POST with the session's CSRF token."""

from datetime import timedelta
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from omniroute.campaigns import estimate as estimates
from omniroute.campaigns import service as campaigns
from omniroute.campaigns import usage
from omniroute.campaigns.models import Campaign
from omniroute.campaigns.recipients import from_csv
from omniroute.campaigns.schemas import CampaignSettings
from omniroute.channels import service as channels
from omniroute.channels.models import Channel
from omniroute.core import metrics
from omniroute.core.deps import SessionDep
from omniroute.core.errors import AuthenticationError, InvalidRequestError, not_found
from omniroute.core.pagination import PageParams, paginate
from omniroute.core.tenancy import Mode
from omniroute.dashboard import service
from omniroute.dashboard.render import DashboardRoute, Link, Table, environment, fragment, page, redirect
from omniroute.dashboard.session import (
    CsrfChecked,
    ViewerDep,
    forget,
    form_of,
    read,
    upload_of,
    write,
)
from omniroute.logs import service as logs
from omniroute.messages import service as messages
from omniroute.messages.listing import MessageFilter, filtered
from omniroute.messages.models import Message, MessageKind, MessageStatus
from omniroute.messages.schemas import SendMessage
from omniroute.policy.templates import TemplateCategory
from omniroute.services import wake_workers_after_commit
from omniroute.templates import service as templates
from omniroute.templates.lint import lint
from omniroute.templates.models import Template
from omniroute.templates.schemas import TemplateCreate, TemplateEdit
from omniroute.verifications import service as verifications
from omniroute.verifications.models import Verification
from omniroute.webhooks import service as webhooks
from omniroute.webhooks.models import WebhookDelivery, WebhookEndpoint
from omniroute.webhooks.schemas import DeliveryOut
from omniroute.workspaces.auth import resolve_key

router = APIRouter(prefix="/dashboard", route_class=DashboardRoute, include_in_schema=False)

environment.globals.update(
    text_of=service.text_of,
    error_meaning=service.error_meaning,
    is_inbound=service.inbound,
    categories=[c.value for c in TemplateCategory],
)

USAGE_GROUPS = ("day", "channel", "category", "country")


def _invalid(exc: ValidationError) -> RequestValidationError:
    return RequestValidationError([{**error, "loc": ("body", *error["loc"])} for error in exc.errors()])


# ---- sign in ---------------------------------------------------------------------------


@router.get("/login")
async def login_page(request: Request) -> HTMLResponse:
    session = read(request)
    request.state.csrf = session.csrf
    response = page(request, "login.html", None)
    if not session.issued:
        write(response, request, session)
    return response


@router.post("/login")
async def login(request: Request, session: CsrfChecked, db: SessionDep) -> Response:
    key = (await form_of(request)).get("api_key", "")
    try:
        auth = await resolve_key(db, key)
    except AuthenticationError as exc:
        raise InvalidRequestError(exc.code, exc.message, param="api_key") from exc
    signed_in = session.keys.get(session.mode or "")
    if signed_in is not None:
        try:
            same = (await resolve_key(db, signed_in)).workspace_id == auth.workspace_id
        except AuthenticationError:
            same = False
        if not same:
            session.keys.clear()
    session.keys[auth.mode.value] = key
    session.mode = auth.mode.value
    response = redirect(request, "/dashboard")
    write(response, request, session)
    return response


@router.post("/logout")
async def logout(request: Request, _: CsrfChecked) -> Response:
    response = redirect(request, "/dashboard/login")
    forget(response, request)
    return response


@router.post("/mode")
async def switch_mode(request: Request, viewer: ViewerDep, session: CsrfChecked) -> Response:
    mode = (await form_of(request)).get("mode", "")
    if mode not in session.keys:
        raise InvalidRequestError(
            "mode_unavailable", f"Sign in with a {mode or 'test or live'} key to see that mode.", param="mode"
        )
    session.mode = Mode(mode).value
    response = redirect(request, "/dashboard")
    write(response, request, session)
    return response


# ---- overview --------------------------------------------------------------------------


@router.get("")
async def overview(request: Request, viewer: ViewerDep, db: SessionDep) -> HTMLResponse:
    return page(request, "overview.html", viewer, overview=await service.overview(db, viewer.auth))


# ---- conversations ---------------------------------------------------------------------


@router.get("/conversations")
async def conversation_list(request: Request, viewer: ViewerDep, db: SessionDep) -> HTMLResponse:
    return page(request, "conversations.html", viewer, rows=await service.conversation_list(db, viewer.auth))


async def _conversation(db: SessionDep, viewer: ViewerDep, conversation_id: str) -> service.ConversationView:
    found = await service.conversation(db, viewer.auth, conversation_id)
    if found is None:
        raise not_found("conversation", conversation_id)
    return found


@router.get("/conversations/{conversation_id}")
async def conversation_page(
    request: Request, conversation_id: str, viewer: ViewerDep, db: SessionDep
) -> HTMLResponse:
    view = await _conversation(db, viewer, conversation_id)
    return page(
        request,
        "conversation.html",
        viewer,
        view=view,
        thread=await service.thread(db, viewer.auth, conversation_id),
        templates=await service.approved_templates(db, viewer.auth, view.channel.id),
    )


def _template_parameters(raw: str) -> dict[str, Any]:
    """The reply box's parameters: ``Ada, #4582`` (positional) or ``name=Ada, day=Monday``."""
    values = [value.strip() for value in raw.split(",") if value.strip()]
    if not values:
        return {}
    if all("=" in value for value in values):
        return {"body": dict(value.split("=", 1) for value in values)}
    return {"body": values}


@router.post("/conversations/{conversation_id}/reply")
async def reply(
    request: Request, conversation_id: str, viewer: ViewerDep, _: CsrfChecked, db: SessionDep
) -> HTMLResponse:
    """Send from the reply box: text (refused, as by the API, when the window is closed) or
    an approved template. Answers the new message for the thread and a fresh reply box."""
    view = await _conversation(db, viewer, conversation_id)
    form = await form_of(request)
    body: dict[str, Any] = {"channel_id": view.channel.id, "to": view.contact.address}
    if form.get("template_id"):
        template = await templates.get(db, viewer.auth, form["template_id"])
        body["template"] = {
            "name": template.name,
            "language": template.language,
            "parameters": _template_parameters(form.get("parameters", "")),
        }
    else:
        body["text"] = {"body": form.get("text", "")}
    try:
        request_body = SendMessage.model_validate(body)
    except ValidationError as exc:
        raise _invalid(exc) from exc
    message = await messages.accept(db, viewer.auth, viewer.auth.now(), request_body)
    wake_workers_after_commit(request)
    request.state.after_commit.append(
        partial(metrics.record_accepted, message.channel_id, str(message.priority))
    )
    return HTMLResponse(
        fragment("_message.html", message=message, oob=True)
        + fragment(
            "_reply_box.html",
            view=view,
            templates=await service.approved_templates(db, viewer.auth, view.channel.id),
            csrf=viewer.session.csrf,
        )
    )


# ---- messages --------------------------------------------------------------------------


@router.get("/messages")
async def message_list(
    request: Request,
    viewer: ViewerDep,
    db: SessionDep,
    channel_id: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[MessageStatus | None, Query()] = None,
    kind: Annotated[MessageKind | None, Query()] = None,
    campaign_id: Annotated[str | None, Query(max_length=40)] = None,
    reference: Annotated[str | None, Query(max_length=200)] = None,
    starting_after: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    where = MessageFilter(
        channel_id or None, status, None, kind, None, campaign_id or None, reference or None
    )
    rows, has_more, cursor = await paginate(
        db,
        filtered(viewer.auth, where),
        Message.id,
        PageParams(limit=service.LIST_LENGTH, starting_after=starting_after or None),
    )
    return page(
        request,
        "messages.html",
        viewer,
        rows=rows,
        next_cursor=cursor if has_more else None,
        where=where,
        statuses=[s.value for s in MessageStatus],
        kinds=[k.value for k in MessageKind],
        channels=await service.channel_names(db, viewer.auth),
        query={k: v for k, v in request.query_params.items() if k != "starting_after"},
    )


@router.get("/messages/{message_id}")
async def message_page(request: Request, message_id: str, viewer: ViewerDep, db: SessionDep) -> HTMLResponse:
    message = await db.scalar(messages.scoped(viewer.auth).where(Message.id == message_id))
    if message is None:
        raise not_found("message", message_id)
    return page(
        request,
        "message.html",
        viewer,
        message=message,
        history=await messages.status_history(db, message.id),
        channels=await service.channel_names(db, viewer.auth),
    )


# ---- templates -------------------------------------------------------------------------


@router.get("/templates")
async def template_list(request: Request, viewer: ViewerDep, db: SessionDep) -> HTMLResponse:
    rows = await db.scalars(
        templates.scoped(viewer.auth).order_by(Template.id.desc()).limit(service.LIST_LENGTH * 4)
    )
    return page(
        request,
        "templates.html",
        viewer,
        rows=rows.all(),
        channels=await service.channel_names(db, viewer.auth),
    )


def _components(form: dict[str, str]) -> list[dict[str, Any]]:
    """The form's header, body (with its example values) and footer as Meta's components."""
    components: list[dict[str, Any]] = []
    if form.get("header"):
        components.append({"type": "HEADER", "format": "TEXT", "text": form["header"]})
    body: dict[str, Any] = {"type": "BODY", "text": form.get("body", "")}
    examples = [value.strip() for value in form.get("examples", "").split(",") if value.strip()]
    if examples:
        body["example"] = {"body_text": [examples]}
    components.append(body)
    if form.get("footer"):
        components.append({"type": "FOOTER", "text": form["footer"]})
    return components


def _template_create(form: dict[str, str]) -> TemplateCreate:
    try:
        return TemplateCreate.model_validate(
            {
                "name": form.get("name", ""),
                "language": form.get("language", ""),
                "category": form.get("category", ""),
                "components": _components(form),
            }
        )
    except ValidationError as exc:
        raise _invalid(exc) from exc


def _form_of_template(template: Template) -> dict[str, str]:
    form = {"name": template.name, "language": template.language, "category": str(template.category)}
    for component in template.components:
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER" and component.get("format", "TEXT") == "TEXT":
            form["header"] = str(component.get("text", ""))
        elif kind == "BODY":
            form["body"] = str(component.get("text", ""))
            examples = (component.get("example") or {}).get("body_text") or [[]]
            form["examples"] = ", ".join(str(value) for value in examples[0])
        elif kind == "FOOTER":
            form["footer"] = str(component.get("text", ""))
    return form


@router.get("/templates/new")
async def template_new(request: Request, viewer: ViewerDep, db: SessionDep) -> HTMLResponse:
    return page(
        request,
        "template_form.html",
        viewer,
        template=None,
        form={"language": "en", "category": "UTILITY"},
        channels=await service.whatsapp_channels(db, viewer.auth),
        history=[],
    )


@router.post("/templates/lint")
async def template_lint(request: Request, viewer: ViewerDep, _: CsrfChecked) -> HTMLResponse:
    """The API's lint (``POST /v1/templates/lint``) over the form as it is being typed."""
    form = await form_of(request)
    try:
        result = lint(_template_create(form).definition()).as_dict()
    except RequestValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:])
        result = {
            "valid": False,
            "issues": [
                {
                    "severity": "error",
                    "component": where,
                    "code": "parameter_invalid",
                    "message": first["msg"],
                }
            ],
            "suggested_category": None,
        }
    return HTMLResponse(fragment("_lint.html", lint=result))


@router.post("/templates")
async def template_create(request: Request, viewer: ViewerDep, _: CsrfChecked, db: SessionDep) -> Response:
    form = await form_of(request)
    channel = await channels.get(db, viewer.auth, form.get("channel_id", ""), param="channel_id")
    template = await templates.create(db, viewer.auth, channel, _template_create(form))
    wake_workers_after_commit(request)
    return redirect(request, f"/dashboard/templates/{template.id}")


@router.get("/templates/{template_id}")
async def template_page(
    request: Request, template_id: str, viewer: ViewerDep, db: SessionDep
) -> HTMLResponse:
    template = await templates.get(db, viewer.auth, template_id)
    return page(
        request,
        "template_form.html",
        viewer,
        template=template,
        form=_form_of_template(template),
        channels=await service.whatsapp_channels(db, viewer.auth),
        history=await templates.history(db, template),
    )


@router.post("/templates/{template_id}")
async def template_edit(
    request: Request, template_id: str, viewer: ViewerDep, _: CsrfChecked, db: SessionDep
) -> Response:
    form = await form_of(request)
    template = await templates.get(db, viewer.auth, template_id)
    category = form.get("category") if form.get("category") != template.category else None
    try:
        edit = TemplateEdit.model_validate({"components": _components(form), "category": category})
    except ValidationError as exc:
        raise _invalid(exc) from exc
    await templates.edit(db, viewer.auth, template, edit)
    wake_workers_after_commit(request)
    return redirect(request, f"/dashboard/templates/{template.id}")


# ---- campaigns -------------------------------------------------------------------------


@router.get("/campaigns")
async def campaign_list(request: Request, viewer: ViewerDep, db: SessionDep) -> HTMLResponse:
    rows = await db.scalars(
        campaigns.scoped(viewer.auth).order_by(Campaign.id.desc()).limit(service.LIST_LENGTH)
    )
    return page(
        request,
        "campaigns.html",
        viewer,
        rows=[await campaigns.to_out(db, c) for c in rows.all()],
        channels=await service.channel_names(db, viewer.auth),
    )


@router.get("/campaigns/new")
async def campaign_new(request: Request, viewer: ViewerDep, db: SessionDep) -> HTMLResponse:
    return page(
        request,
        "campaign_new.html",
        viewer,
        channels=await service.whatsapp_channels(db, viewer.auth),
        templates=await service.approved_templates(db, viewer.auth),
    )


async def _campaign_form(request: Request) -> tuple[CampaignSettings, Any]:
    form = await form_of(request)
    name, _, language = form.get("template", "").partition("|")
    try:
        settings = CampaignSettings.model_validate(
            {
                "channel_id": form.get("channel_id", ""),
                "name": form.get("name", ""),
                "template": {"name": name, "language": language},
                "on_limit": form.get("on_limit") or "wait",
            }
        )
    except ValidationError as exc:
        raise _invalid(exc) from exc
    upload = await upload_of(request, "file")
    if upload is None:
        raise InvalidRequestError("parameter_missing", "Choose the CSV file of recipients.", param="file")
    return settings, lambda variables: from_csv(upload.file, variables)


@router.post("/campaigns/estimate")
async def campaign_estimate(
    request: Request, viewer: ViewerDep, _: CsrfChecked, db: SessionDep
) -> HTMLResponse:
    settings, rows_for = await _campaign_form(request)
    result = await estimates.estimate(db, viewer.auth, viewer.auth.now(), settings, rows_for)
    return HTMLResponse(fragment("_estimate.html", estimate=result))


@router.post("/campaigns")
async def campaign_create(request: Request, viewer: ViewerDep, _: CsrfChecked, db: SessionDep) -> Response:
    settings, rows_for = await _campaign_form(request)
    campaign = await campaigns.create(db, viewer.auth, viewer.auth.now(), settings, rows_for)
    wake_workers_after_commit(request)
    return redirect(request, f"/dashboard/campaigns/{campaign.id}")


@router.get("/campaigns/{campaign_id}")
async def campaign_page(
    request: Request, campaign_id: str, viewer: ViewerDep, db: SessionDep
) -> HTMLResponse:
    campaign = await campaigns.get(db, viewer.auth, campaign_id)
    names = await service.channel_names(db, viewer.auth)
    return page(
        request,
        "campaign.html",
        viewer,
        campaign=await campaigns.to_out(db, campaign),
        channel_name=names.get(campaign.channel_id, campaign.channel_id),
    )


@router.post("/campaigns/{campaign_id}/{action}")
async def campaign_action(
    request: Request, campaign_id: str, action: str, viewer: ViewerDep, _: CsrfChecked, db: SessionDep
) -> Response:
    campaign = await campaigns.get(db, viewer.auth, campaign_id, lock=True)
    now = viewer.auth.now()
    if action == "pause":
        await campaigns.pause(db, campaign, now, "requested")
    elif action == "resume":
        await campaigns.resume(db, campaign, now)
        wake_workers_after_commit(request)
    elif action == "cancel":
        await campaigns.cancel(db, campaign, now)
    else:
        raise not_found("campaign action", action)
    return redirect(request, f"/dashboard/campaigns/{campaign.id}")


# ---- channels, webhooks, usage, logs -----------------------------------------------------


@router.get("/channels")
async def channel_list(request: Request, viewer: ViewerDep, db: SessionDep) -> HTMLResponse:
    rows = await db.scalars(channels.scoped(viewer.auth).order_by(Channel.id))
    return page(request, "channels.html", viewer, rows=rows.all())


@router.get("/webhooks")
async def webhook_list(request: Request, viewer: ViewerDep, db: SessionDep) -> HTMLResponse:
    rows = await db.scalars(webhooks.scoped(viewer.auth).order_by(WebhookEndpoint.id.desc()))
    table = Table(
        caption="Where events are delivered (create one with POST /v1/webhook-endpoints)",
        columns=["URL", "Events", "State", "Created"],
        rows=[
            [
                Link(e.url, f"/dashboard/webhooks/{e.id}"),
                ", ".join(e.events),
                "enabled" if e.enabled else f"disabled: {e.disabled_reason or ''}",
                e.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            ]
            for e in rows
        ],
        empty="No webhook endpoints: create one with POST /v1/webhook-endpoints.",
    )
    return page(request, "list.html", viewer, title="Webhook endpoints", table=table)


@router.get("/webhooks/{endpoint_id}")
async def webhook_page(request: Request, endpoint_id: str, viewer: ViewerDep, db: SessionDep) -> HTMLResponse:
    endpoint = await webhooks.get(db, viewer.auth, endpoint_id)
    rows = (
        await db.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(service.LIST_LENGTH)
        )
    ).all()
    attempts = await webhooks.attempts_of(db, rows)
    deliveries = [DeliveryOut.of(d, attempts[d.id]) for d in rows]
    return page(request, "webhook.html", viewer, endpoint=endpoint, deliveries=deliveries)


@router.post("/webhooks/{endpoint_id}/deliveries/{delivery_id}/retry")
async def webhook_retry(
    request: Request, endpoint_id: str, delivery_id: str, viewer: ViewerDep, _: CsrfChecked, db: SessionDep
) -> Response:
    endpoint = await webhooks.get(db, viewer.auth, endpoint_id)
    webhooks.retry_now(db, await webhooks.get_delivery(db, endpoint, delivery_id))
    wake_workers_after_commit(request)
    return redirect(request, f"/dashboard/webhooks/{endpoint.id}")


@router.get("/usage")
async def usage_page(
    request: Request,
    viewer: ViewerDep,
    db: SessionDep,
    group_by: Annotated[str, Query(pattern="^(day|channel|category|country)$")] = "day",
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> HTMLResponse:
    now = viewer.auth.now()
    start = service.day_start(now) - timedelta(days=days - 1)
    result = await usage.usage(db, viewer.auth, start, now + timedelta(seconds=1), group_by)
    names = await service.channel_names(db, viewer.auth) if group_by == "channel" else {}
    return page(
        request,
        "usage.html",
        viewer,
        rows=result.data,
        names=names,
        group_by=group_by,
        groups=USAGE_GROUPS,
        days=days,
        total=service.total_cost(result.data),
        widest=max((row.messages for row in result.data), default=0),
    )


@router.get("/verifications")
async def verification_list(request: Request, viewer: ViewerDep, db: SessionDep) -> HTMLResponse:
    rows = await db.scalars(
        verifications.scoped(viewer.auth).order_by(Verification.id.desc()).limit(service.LIST_LENGTH)
    )
    conversion = "; ".join(
        f"{channel} {approved} of {total} approved ({approved * 100 // total} %)"
        for channel, total, approved in await verifications.report(db, viewer.auth, None, None)
    )
    table = Table(
        caption="Latest one-time codes (codes are never shown)"
        + (f". Conversion by channel: {conversion}" if conversion else ""),
        columns=["ID", "To", "Status", "Attempts", "Checks left", "Created", "Expires"],
        rows=[
            [
                v.id,
                v.to,
                v.status,
                ", ".join(f"{attempt['channel']} {attempt['status']}" for attempt in v.attempts) or None,
                v.checks_left,
                v.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                v.expires_at.strftime("%Y-%m-%d %H:%M:%S"),
            ]
            for v in rows
        ],
        empty="No verifications yet: send a code with POST /v1/verifications.",
    )
    return page(request, "list.html", viewer, title="Verifications", table=table)


@router.get("/logs")
async def log_list(
    request: Request,
    viewer: ViewerDep,
    db: SessionDep,
    kind: Annotated[logs.Kind | None, Query()] = None,
    starting_after: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    where = logs.LogFilter(kind, None, None, None, None, None)
    rows, has_more = await logs.read(db, viewer.auth, where, service.LIST_LENGTH, starting_after or None)
    return page(
        request,
        "logs.html",
        viewer,
        rows=rows,
        kind=kind,
        next_cursor=rows[-1].id if has_more and rows else None,
    )
