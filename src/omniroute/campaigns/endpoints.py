"""``/v1/campaigns`` and ``/v1/usage``. A campaign is created from JSON or from a CSV
upload (``multipart/form-data``); both bodies are read here, the CSV as a stream."""

from collections.abc import Callable, Iterable
from contextlib import AsyncExitStack
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import UploadFile

from omniroute.campaigns import estimate as estimates
from omniroute.campaigns import service, usage
from omniroute.campaigns.models import Campaign, CampaignRecipient
from omniroute.campaigns.recipients import Row, Shape, from_csv, from_json
from omniroute.campaigns.schemas import (
    MAX_JSON_RECIPIENTS,
    CampaignCreate,
    CampaignEstimate,
    CampaignOut,
    CampaignSettings,
    RecipientOut,
    UsageOut,
)
from omniroute.core.deps import SessionDep
from omniroute.core.errors import InvalidRequestError
from omniroute.core.http import api_router
from omniroute.core.openapi import error_responses
from omniroute.core.pagination import Page, PageParams, page_params, paginate, unknown_cursor
from omniroute.core.text import problem_with, refuse_unstorable_input
from omniroute.services import wake_workers_after_commit
from omniroute.workspaces.auth import Auth

router = api_router(prefix="/campaigns", tags=["campaigns"])
usage_router = api_router(prefix="/usage", tags=["usage"])

MAX_CSV_BYTES = 64 * 1024 * 1024
CSV_FORM_FIELDS = (
    "channel_id",
    "name",
    "template_name",
    "template_language",
    "text",
    "subject",
    "html",
    "category",
    "schedule_at",
    "on_limit",
)
"""The form fields of a CSV upload: a WhatsApp campaign's template, an SMS campaign's
``text``, or an email campaign's ``subject`` with ``text`` and/or ``html``."""

_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["channel_id", "name", "recipients"],
                    "additionalProperties": False,
                    "properties": {
                        "channel_id": {"type": "string", "maxLength": 40},
                        "name": {"type": "string", "minLength": 1, "maxLength": 200},
                        "template": {
                            "type": "object",
                            "description": "WhatsApp: the approved template.",
                            "required": ["name", "language"],
                            "properties": {"name": {"type": "string"}, "language": {"type": "string"}},
                        },
                        "text": {
                            "type": "object",
                            "description": "SMS: the text, with {{variable}} placeholders.",
                            "required": ["body"],
                            "properties": {"body": {"type": "string", "minLength": 1}},
                        },
                        "email": {
                            "type": "object",
                            "description": "Email: subject and text and/or html, with {{variable}} placeholders.",
                            "required": ["subject"],
                            "properties": {
                                "subject": {"type": "string", "minLength": 1},
                                "text": {"type": "string"},
                                "html": {"type": "string"},
                                "reply_to": {"type": "string"},
                            },
                        },
                        "category": {"type": "string", "enum": ["marketing", "utility"]},
                        "recipients": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_JSON_RECIPIENTS,
                            "items": {
                                "type": "object",
                                "required": ["to"],
                                "properties": {
                                    "to": {
                                        "type": "string",
                                        "description": "A phone number or an email address.",
                                    },
                                    "parameters": {"type": "object"},
                                    "reference": {"type": ["string", "null"], "maxLength": 200},
                                },
                            },
                        },
                        "schedule_at": {"type": ["string", "null"], "format": "date-time"},
                        "on_limit": {"type": "string", "enum": ["wait", "fail"]},
                    },
                }
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["channel_id", "name", "file"],
                    "properties": {
                        "channel_id": {"type": "string"},
                        "name": {"type": "string"},
                        "template_name": {"type": "string", "description": "WhatsApp."},
                        "template_language": {"type": "string", "description": "WhatsApp."},
                        "text": {
                            "type": "string",
                            "description": "SMS: the text; email: the plain text body.",
                        },
                        "subject": {"type": "string", "description": "Email."},
                        "html": {"type": "string", "description": "Email."},
                        "category": {"type": "string", "enum": ["marketing", "utility"]},
                        "schedule_at": {"type": "string", "format": "date-time"},
                        "on_limit": {"type": "string", "enum": ["wait", "fail"]},
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "CSV: a 'to' column, one column per template variable "
                            "('1', '2', … or the variable's name; 'header.<name>', 'button.<index>') or "
                            "per {{variable}} of an SMS or email campaign's text, optional 'reference'.",
                        },
                    },
                }
            },
        },
    }
}

RowsFor = Callable[[Shape], Iterable[Row]]


def _invalid(exc: ValidationError) -> RequestValidationError:
    return RequestValidationError([{**error, "loc": ("body", *error["loc"])} for error in exc.errors()])


async def _read_body(request: Request, stack: AsyncExitStack) -> tuple[CampaignSettings, RowsFor]:
    """The campaign's settings and a way to read its rows once the template is known."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=len(CSV_FORM_FIELDS), max_part_size=MAX_CSV_BYTES)
        stack.push_async_callback(form.close)
        fields = {k: v for k, v in form.items() if isinstance(v, str) and k in CSV_FORM_FIELDS}
        for name, value in fields.items():
            problem = problem_with(value)
            if problem:
                raise InvalidRequestError("parameter_invalid", f"{name} {problem}.", param=name)
        raw: dict[str, Any] = {
            k: v
            for k, v in fields.items()
            if k in ("channel_id", "name", "schedule_at", "on_limit", "category")
        }
        if "template_name" in fields or "template_language" in fields:
            raw["template"] = {
                "name": fields.get("template_name"),
                "language": fields.get("template_language"),
            }
        if "subject" in fields or "html" in fields:
            raw["email"] = {k: fields[k] for k in ("subject", "text", "html") if k in fields}
        elif "text" in fields:
            raw["text"] = {"body": fields["text"]}
        try:
            settings = CampaignSettings.model_validate(raw)
        except ValidationError as exc:
            raise _invalid(exc) from exc
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidRequestError(
                "parameter_missing", "'file' (the CSV upload) is required.", param="file"
            )
        return settings, lambda shape: from_csv(upload.file, shape)
    await refuse_unstorable_input(request, json_body=True)
    try:
        body = CampaignCreate.model_validate_json(await request.body())
    except ValidationError as exc:
        raise _invalid(exc) from exc
    return body, lambda _: from_json(body.recipients)


@router.post(
    "",
    status_code=201,
    summary="Create a campaign",
    description="From JSON (`recipients`) or a CSV upload (`multipart/form-data`); a WhatsApp `template`, "
    "an SMS `text` or an `email` with {{variable}} placeholders. Each recipient is screened (address, "
    "duplicate, opt-out, parameters) and, when it is sent, the marketing frequency cap; skipped rows are listed "
    "with their reason under /recipients?status=skipped. Messages are made in batches while it runs, in "
    "the bulk lane, paced by the channel's limits.",
    openapi_extra=_BODY_DOC,
    responses=error_responses(404),
)
async def create_campaign(request: Request, auth: Auth, session: SessionDep) -> CampaignOut:
    async with AsyncExitStack() as stack:
        settings, rows_for = await _read_body(request, stack)
        campaign = await service.create(session, auth, auth.now(), settings, rows_for)
    wake_workers_after_commit(request)
    return await service.to_out(session, campaign)


@router.post(
    "/estimate",
    summary="Estimate a campaign (nothing is stored)",
    description="The same body as creating one: who can be reached, who is skipped and why, how many "
    "are beyond the messaging tier, the cost by country from the rate card, and the time to send.",
    openapi_extra=_BODY_DOC,
    responses=error_responses(404),
)
async def estimate_campaign(request: Request, auth: Auth, session: SessionDep) -> CampaignEstimate:
    async with AsyncExitStack() as stack:
        settings, rows_for = await _read_body(request, stack)
        return await estimates.estimate(session, auth, auth.now(), settings, rows_for)


@router.get("", summary="List campaigns (newest first)")
async def list_campaigns(
    auth: Auth, session: SessionDep, page: Annotated[PageParams, Depends(page_params)]
) -> Page[CampaignOut]:
    rows, has_more, cursor = await paginate(session, service.scoped(auth), Campaign.id, page)
    return Page(data=[await service.to_out(session, c) for c in rows], has_more=has_more, next_cursor=cursor)


@router.get("/{campaign_id}", summary="Fetch a campaign with its live counts and cost")
async def get_campaign(campaign_id: str, auth: Auth, session: SessionDep) -> CampaignOut:
    return await service.to_out(session, await service.get(session, auth, campaign_id))


@router.get("/{campaign_id}/recipients", summary="Each recipient's outcome, in list order")
async def list_recipients(
    campaign_id: str,
    auth: Auth,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
    status: Annotated[
        Literal["pending", "skipped", "cancelled", "queued", "sending", "sent", "delivered", "read", "failed"]
        | None,
        Query(description="skipped, pending, cancelled, or a message status."),
    ] = None,
) -> Page[RecipientOut]:
    campaign = await service.get(session, auth, campaign_id)
    statement = service.recipients_query(campaign, status)
    if page.starting_after:
        after = await session.scalar(
            select(CampaignRecipient.row).where(
                CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.id == page.starting_after
            )
        )
        if after is None:
            raise unknown_cursor(page.starting_after)
        statement = statement.where(CampaignRecipient.row > after)
    rows = (await session.execute(statement.order_by(CampaignRecipient.row).limit(page.limit + 1))).all()
    has_more = len(rows) > page.limit
    rows = rows[: page.limit]
    return Page(
        data=[service.recipient_out(recipient, message) for recipient, message in rows],
        has_more=has_more,
        next_cursor=rows[-1][0].id if has_more else None,
    )


@router.post("/{campaign_id}/pause", summary="Pause a campaign")
async def pause_campaign(campaign_id: str, auth: Auth, session: SessionDep) -> CampaignOut:
    campaign = await service.get(session, auth, campaign_id, lock=True)
    await service.pause(session, campaign, auth.now(), "requested")
    return await service.to_out(session, campaign)


@router.post("/{campaign_id}/resume", summary="Resume a paused campaign")
async def resume_campaign(campaign_id: str, auth: Auth, session: SessionDep, request: Request) -> CampaignOut:
    campaign = await service.get(session, auth, campaign_id, lock=True)
    await service.resume(session, campaign, auth.now())
    wake_workers_after_commit(request)
    return await service.to_out(session, campaign)


@router.post("/{campaign_id}/cancel", summary="Cancel a campaign (queued messages fail, sent ones stay)")
async def cancel_campaign(campaign_id: str, auth: Auth, session: SessionDep) -> CampaignOut:
    campaign = await service.get(session, auth, campaign_id, lock=True)
    await service.cancel(session, campaign, auth.now())
    return await service.to_out(session, campaign)


@usage_router.get("", summary="Messages, billable messages and cost, grouped")
async def get_usage(
    auth: Auth,
    session: SessionDep,
    from_: Annotated[datetime, Query(alias="from", description="Start (inclusive), RFC 3339.")],
    to: Annotated[datetime, Query(description="End (exclusive), RFC 3339.")],
    group_by: Annotated[Literal["day", "channel", "category", "country", "campaign"], Query()] = "day",
) -> UsageOut:
    if to <= from_:
        raise InvalidRequestError("parameter_invalid", "'to' must be after 'from'.", param="to")
    return await usage.usage(session, auth, from_, to, group_by)
