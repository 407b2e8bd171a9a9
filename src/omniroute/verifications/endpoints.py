"""``/v1/verifications``: one-time codes (OneOTP)."""

from datetime import datetime
from typing import Annotated

from fastapi import Query, Request
from sqlalchemy import select

from omniroute.channels import service as channels
from omniroute.channels.models import Channel, ChannelType
from omniroute.core.deps import SessionDep
from omniroute.core.errors import InvalidRequestError
from omniroute.core.http import api_router
from omniroute.core.openapi import error_responses
from omniroute.policy.templates import TemplateCategory
from omniroute.services import ServicesDep, wake_workers_after_commit
from omniroute.templates import service as templates
from omniroute.templates.models import Template
from omniroute.templates.schemas import TemplateCreate, TemplateOut
from omniroute.verifications import service, texts
from omniroute.verifications.schemas import (
    CheckCode,
    CheckDestination,
    CheckOut,
    ReportOut,
    ReportRow,
    SettingsOut,
    SettingsUpdate,
    TemplatesOut,
    TextOut,
    VerificationCreate,
    VerificationOut,
    WhatsAppTemplateCreate,
    WhatsAppTemplateOut,
)
from omniroute.workspaces.auth import Auth

router = api_router(prefix="/verifications", tags=["verifications"])


@router.post(
    "",
    status_code=201,
    summary="Send a one-time code",
    description="Sends a code on the first of `channels` that takes it and falls back to the next "
    "when a send fails or is not delivered in time. The code is never in a live-mode response; "
    "test mode returns it as `test_code`. 429 `rate_limited` (`details.retry_after`) when the "
    "destination had too many codes or one just now.",
    responses=error_responses(404, 429),
)
async def create_verification(
    body: VerificationCreate, auth: Auth, session: SessionDep, request: Request, services: ServicesDep
) -> VerificationOut:
    verification, code = await service.create(session, auth, services.settings, auth.now(), body)
    wake_workers_after_commit(request)
    return service.to_out(verification, test_code=code if auth.is_test else None)


@router.post("/check", summary="Check the code last sent to a destination", responses=error_responses(404))
async def check_by_destination(body: CheckDestination, auth: Auth, session: SessionDep) -> CheckOut:
    verification = await service.latest_for(session, auth, body.to)
    return await service.check(session, auth, verification.id, body.code, auth.now())


@router.get("/templates", summary="The message text per channel and locale")
async def list_templates(auth: Auth, session: SessionDep) -> TemplatesOut:
    own = (await service.settings_of(session, auth)).templates
    data = [
        TextOut(
            channel=channel,
            locale=locale,
            source="workspace" if locale in (own.get(channel) or {}) else "built_in",
            text=texts.text_for(channel, locale, own),
        )
        for channel in ("sms", "email")
        for locale in sorted({*texts.LOCALES, *(own.get(channel) or {})})
    ]
    rows = await session.execute(
        select(Template, Channel.id)
        .join(Channel, Channel.id == Template.channel_id)
        .where(
            Channel.workspace_id == auth.workspace_id,
            Channel.mode == auth.mode,
            Channel.deleted_at.is_(None),
            Template.category == TemplateCategory.AUTHENTICATION,
        )
        .order_by(Template.id)
    )
    whatsapp = [
        WhatsAppTemplateOut(
            channel_id=channel_id, template_id=t.id, name=t.name, language=t.language, status=t.status
        )
        for t, channel_id in rows
    ]
    return TemplatesOut(data=data, whatsapp=whatsapp)


@router.post(
    "/templates/whatsapp",
    status_code=201,
    summary="Create the WhatsApp authentication template for a channel",
    description="Submits an AUTHENTICATION template in Meta's fixed shape (body written by Meta with "
    "the optional security recommendation, expiry footer, copy-code or one-tap button) through the "
    "templates API, so lint and the review lifecycle apply; it is usable once APPROVED.",
)
async def create_whatsapp_template(
    body: WhatsAppTemplateCreate, auth: Auth, session: SessionDep, request: Request
) -> TemplateOut:
    channel = await channels.get(session, auth, body.channel_id, param="channel_id")
    if channel.type != ChannelType.WHATSAPP:
        raise InvalidRequestError(
            "channel_type_unsupported",
            "Authentication templates exist only on WhatsApp channels.",
            param="channel_id",
        )
    button: dict[str, object] = {"type": "OTP", "otp_type": body.otp_type, "text": body.button_text}
    if body.otp_type == "ONE_TAP" and body.package_name is not None:
        button["supported_apps"] = [
            {"package_name": body.package_name, "signature_hash": body.signature_hash}
        ]
    footer = (
        [{"type": "FOOTER", "code_expiration_minutes": body.code_expiration_minutes}]
        if body.code_expiration_minutes is not None
        else []
    )
    definition = TemplateCreate.model_validate(
        {
            "name": body.name,
            "language": body.locale,
            "category": TemplateCategory.AUTHENTICATION,
            "components": [
                {"type": "BODY", "add_security_recommendation": body.add_security_recommendation},
                *footer,
                {"type": "BUTTONS", "buttons": [button]},
            ],
        }
    )
    template = await templates.create(session, auth, channel, definition)
    wake_workers_after_commit(request)
    return templates.to_out(template)


@router.get(
    "/report",
    summary="Conversion rate per channel",
    description="Per channel of the latest attempt: verifications sent and approved, and the rate.",
)
async def conversion_report(
    auth: Auth,
    session: SessionDep,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
) -> ReportOut:
    rows = await service.report(session, auth, from_, to)
    return ReportOut(
        data=[
            ReportRow(
                channel=channel,
                verifications=total,
                approved=approved,
                conversion_rate=round(approved / total, 4) if total else 0.0,
            )
            for channel, total, approved in rows
        ]
    )


@router.get("/settings", summary="This workspace's rules for one-time codes")
async def get_settings(auth: Auth, session: SessionDep) -> SettingsOut:
    return _settings_out(await service.settings_of(session, auth))


@router.patch("/settings", summary="Change this workspace's rules for one-time codes")
async def update_settings(body: SettingsUpdate, auth: Auth, session: SessionDep) -> SettingsOut:
    rules = await service.settings_of(session, auth)
    if "sms_allowed_countries" in body.model_fields_set:
        rules.sms_allowed_countries = body.sms_allowed_countries
    if body.templates is not None:
        own = body.templates.model_dump()
        for channel, by_locale in own.items():
            for locale, parts in by_locale.items():
                _require_usable_text(channel, locale, parts)
        rules.templates = {
            channel: {**(rules.templates.get(channel) or {}), **by_locale}
            for channel, by_locale in own.items()
        }
    if body.new_code_per_channel is not None:
        rules.new_code_per_channel = body.new_code_per_channel
    session.add(rules)
    return _settings_out(rules)


def _require_usable_text(channel: str, locale: str, parts: dict[str, str]) -> None:
    where = f"templates.{channel}.{locale}"
    for key, text in parts.items():
        unknown = texts.unknown_placeholders(text)
        if unknown:
            raise InvalidRequestError(
                "parameter_invalid",
                f"{where}.{key}: unknown placeholder {{{{{unknown[0]}}}}}; use {{{{code}}}}, "
                "{{minutes}} and {{brand}}.",
                param=f"{where}.{key}",
            )
    carrier = "body" if channel == "sms" else "text"
    if "{{code}}" not in parts[carrier].replace(" ", ""):
        raise InvalidRequestError(
            "parameter_invalid", f"{where}.{carrier} must contain {{{{code}}}}.", param=f"{where}.{carrier}"
        )
    if channel == "email" and "code" in texts.PLACEHOLDER.findall(parts["subject"]):
        raise InvalidRequestError(
            "parameter_invalid",
            f"{where}.subject: keep the code out of the subject (it shows in notifications).",
            param=f"{where}.subject",
        )


def _settings_out(rules: object) -> SettingsOut:
    return SettingsOut.model_validate(rules, from_attributes=True)


@router.get("/{verification_id}", summary="Retrieve a verification")
async def get_verification(verification_id: str, auth: Auth, session: SessionDep) -> VerificationOut:
    verification = await service.get(session, auth, verification_id, lock=True)
    await service.still_pending(session, verification, auth.now())
    return service.to_out(verification)


@router.post("/{verification_id}/check", summary="Check a code")
async def check_code(verification_id: str, body: CheckCode, auth: Auth, session: SessionDep) -> CheckOut:
    return await service.check(session, auth, verification_id, body.code, auth.now())


@router.post("/{verification_id}/cancel", summary="Cancel a pending verification")
async def cancel_verification(verification_id: str, auth: Auth, session: SessionDep) -> VerificationOut:
    return service.to_out(await service.cancel(session, auth, verification_id, auth.now()))
