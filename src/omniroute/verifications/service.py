"""One-time codes: make a code, send it on the first channel that takes it, move to the
next when a send fails finally or is not delivered in time, and check it safely.

The code is never stored in clear. ``code_hash`` (HMAC-SHA256 under the server's secret
key, bound to the verification's id) is what a check compares, in constant time;
``code_sealed`` (Fernet) lets a fallback channel send the same code and is erased when
the verification leaves ``pending``. An OTP message is stored with its code masked
(``*`` per digit, so an SMS keeps its encoding and segments); the dispatcher puts the
code back into what it hands the provider, in memory only (``reveal``)."""

import math
import secrets
import string
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.channels import service as channels
from omniroute.channels.models import Channel, ChannelType
from omniroute.config import Settings
from omniroute.core import email_address
from omniroute.core.db import serialize_on
from omniroute.core.errors import (
    APIError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PolicyError,
    RateLimitError,
)
from omniroute.core.ids import new_id
from omniroute.core.phone import region_of, to_e164
from omniroute.core.secrets import keyring
from omniroute.core.tenancy import Mode, Tenant, TenantRef
from omniroute.events import service as events
from omniroute.events.types import EventType
from omniroute.jobs import queue
from omniroute.messages import service as messages
from omniroute.messages.models import Message, MessageStatus, Priority
from omniroute.messages.schemas import SendMessage
from omniroute.policy.templates import TemplateCategory, TemplateStatus
from omniroute.providers.base import OutboundMessage, TemplateSend
from omniroute.templates.models import Template
from omniroute.verifications import texts
from omniroute.verifications.models import Verification, VerificationSettings, VerificationStatus
from omniroute.verifications.schemas import AttemptOut, CheckOut, VerificationCreate, VerificationOut
from omniroute.workspaces.models import Workspace

FOLLOW_JOB = "verifications.follow"
TIMEOUT_JOB = "verifications.delivery_timeout"
EXPIRE_JOB = "verifications.expire"

ID_PREFIX = "otp_"
MASK = "*"
OPEN = (MessageStatus.QUEUED,)
"""A closed verification's messages still in these statuses are not sent."""


def scoped(tenant: Tenant) -> Select[Verification]:
    return select(Verification).where(
        Verification.workspace_id == tenant.workspace_id, Verification.mode == tenant.mode
    )


async def get(
    session: AsyncSession, tenant: Tenant, verification_id: str, *, lock: bool = False
) -> Verification:
    statement = scoped(tenant).where(Verification.id == verification_id)
    found = await session.scalar(statement.with_for_update() if lock else statement)
    if found is None:
        raise NotFoundError(
            "verification_not_found",
            f"No verification '{verification_id}' in this workspace and mode.",
            param="id",
        )
    return found


# --- codes -------------------------------------------------------------------------


def new_code(length: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(length))


def _digest_input(verification_id: str, code: str) -> str:
    return f"otp:{verification_id}:{code}"


def hash_code(verification_id: str, code: str) -> str:
    return keyring().digests(_digest_input(verification_id, code))[0]


def code_matches(verification_id: str, stored_hash: str, candidate: str) -> bool:
    """Constant-time, under every configured key (a key rotated meanwhile still matches)."""
    return any(
        secrets.compare_digest(digest, stored_hash)
        for digest in keyring().digests(_digest_input(verification_id, candidate))
    )


def _set_code(verification: Verification, code: str) -> None:
    verification.code_hash = hash_code(verification.id, code)
    verification.code_sealed = keyring().encrypt(code)


def _code(verification: Verification) -> str | None:
    return keyring().decrypt(verification.code_sealed) if verification.code_sealed else None


# --- workspace settings ------------------------------------------------------------


async def settings_of(session: AsyncSession, tenant: Tenant) -> VerificationSettings:
    """The workspace's rules for this mode (a new row, not yet added, when it has none)."""
    key = f"{tenant.workspace_id}:{Mode(tenant.mode).value}"
    found = await session.get(VerificationSettings, key)
    return found or VerificationSettings(
        id=key,
        workspace_id=tenant.workspace_id,
        mode=tenant.mode,
        sms_allowed_countries=None,
        templates={},
        new_code_per_channel=False,
    )


# --- creating ------------------------------------------------------------------------


async def create(
    session: AsyncSession, tenant: Tenant, settings: Settings, now: datetime, body: VerificationCreate
) -> tuple[Verification, str]:
    """Check the request and the send limits, supersede a pending verification to the
    same destination, and send on the first channel that takes the code. Returns the
    verification and its code (for ``test_code`` in test mode)."""
    to, email = _destinations(body)
    await _refuse_over_send_limits(session, tenant, settings, to, now)
    await _supersede(session, tenant, to, now)
    code = new_code(body.code_length)
    verification = Verification(
        id=new_id("otp"),
        workspace_id=tenant.workspace_id,
        mode=tenant.mode,
        to=to,
        email=email,
        channels=body.channels,
        channel=None,
        attempts=[],
        status=VerificationStatus.PENDING,
        code_length=body.code_length,
        checks_left=settings.verification_max_checks,
        locale=body.locale,
        brand=body.brand,
        expires_at=now + timedelta(seconds=body.ttl_seconds),
        created_at=now,
        updated_at=now,
    )
    _set_code(verification, code)
    session.add(verification)
    await session.flush()
    refusals = await advance(session, verification, settings, now, code)
    if verification.channel is None:
        first = refusals[0]
        first.details = {**first.details, "attempts": verification.attempts}
        raise first
    queue.enqueue(
        session,
        EXPIRE_JOB,
        {"verification_id": verification.id},
        delay=body.ttl_seconds,
        workspace_id=tenant.workspace_id,
        mode=Mode(tenant.mode),
    )
    return verification, code


def _destinations(body: VerificationCreate) -> tuple[str, str | None]:
    """``to`` as stored (E.164, or an email address) and the email channel's address; a
    422 naming the field when a channel cannot reach them."""
    if "@" in body.to:
        to = email_address.normalize(body.to, param="to")
        email: str | None = to
    else:
        to = to_e164(body.to, param="to")
        email = email_address.normalize(body.email, param="email") if body.email else None
    for index, channel in enumerate(body.channels):
        if channel in ("whatsapp", "sms") and email == to:
            raise InvalidRequestError(
                "channel_type_unsupported",
                f"channels[{index}]: {channel} needs `to` to be a phone number.",
                param=f"channels[{index}]",
            )
        if channel == "email" and email is None:
            raise InvalidRequestError(
                "parameter_missing",
                "The email channel needs an address: give `email`, or an email address as `to`.",
                param="email",
            )
    return to, email


async def _refuse_over_send_limits(
    session: AsyncSession, tenant: Tenant, settings: Settings, to: str, now: datetime
) -> None:
    """At most ``verification_sends_per_destination`` per window, and a cooldown between
    two; 429 ``rate_limited`` with ``details.retry_after`` (whole seconds) otherwise.
    Concurrent sends to one destination take turns here, so none counts before another commits."""
    await serialize_on(session, f"verification-sends:{tenant.workspace_id}:{tenant.mode}:{to}")
    window = timedelta(seconds=settings.verification_send_window_seconds)
    recent = (
        await session.scalars(
            scoped(tenant)
            .where(Verification.to == to, Verification.created_at > now - window)
            .order_by(Verification.created_at)
        )
    ).all()
    cooldown = timedelta(seconds=settings.verification_resend_cooldown_seconds)
    if recent and recent[-1].created_at + cooldown > now:
        raise _rate_limited(
            recent[-1].created_at + cooldown - now,
            f"A code was sent to this destination less than {cooldown.total_seconds():g} seconds ago.",
            "resend_cooldown",
        )
    if len(recent) >= settings.verification_sends_per_destination:
        oldest = recent[len(recent) - settings.verification_sends_per_destination]
        raise _rate_limited(
            oldest.created_at + window - now,
            f"{len(recent)} codes were sent to this destination in the last {window.total_seconds():g} seconds.",
            "destination_limit",
        )


def _rate_limited(wait: timedelta, why: str, reason: str) -> RateLimitError:
    retry_after = max(1, math.ceil(wait.total_seconds()))
    return RateLimitError(
        "rate_limited",
        f"{why} Try again in {retry_after} seconds.",
        param="to",
        details={"retry_after": retry_after, "reason": reason},
    )


async def _supersede(session: AsyncSession, tenant: Tenant, to: str, now: datetime) -> None:
    """A new code to a destination cancels the one still pending there: one live code each."""
    pending = await session.scalars(
        scoped(tenant)
        .where(Verification.to == to, Verification.status == VerificationStatus.PENDING)
        .with_for_update()
    )
    for verification in pending:
        await close(session, verification, VerificationStatus.CANCELED, now)


# --- sending and falling back ------------------------------------------------------


async def advance(
    session: AsyncSession, verification: Verification, settings: Settings, now: datetime, code: str | None
) -> list[APIError]:
    """Send on the next channel that takes the code, recording each one that refuses it as
    a skipped attempt; with none left the verification fails. Returns the refusals."""
    tenant = TenantRef(verification.workspace_id, Mode(verification.mode))
    rules = await settings_of(session, tenant)
    if code is None or (verification.attempts and rules.new_code_per_channel):
        code = new_code(verification.code_length)
        _set_code(verification, code)
    refusals: list[APIError] = []
    for requested in verification.channels[len(verification.attempts) :]:
        try:
            async with session.begin_nested():
                channel = await _channel(session, tenant, requested)
                message, text = await _send(session, verification, settings, rules, channel, now)
        except APIError as refusal:
            refusals.append(refusal)
            _record_attempt(verification, requested, None, None, "skipped", now, error=refusal)
            continue
        _record_attempt(verification, channel.type, channel.id, message.id, "queued", now, text=text)
        verification.channel = channel.type
        queue.enqueue(
            session,
            TIMEOUT_JOB,
            {"verification_id": verification.id, "message_id": message.id},
            delay=settings.verification_delivery_timeout_seconds,
            priority=queue.PRIORITY_HIGH,
            workspace_id=verification.workspace_id,
            mode=Mode(verification.mode),
        )
        return refusals
    if verification.channel is not None and all(
        a["status"] in ("failed", "skipped") for a in verification.attempts
    ):
        # every channel was tried and each failed finally: the code cannot arrive
        await close(session, verification, VerificationStatus.FAILED, now, reason="undeliverable")
    return refusals


def _record_attempt(
    verification: Verification,
    channel: str,
    channel_id: str | None,
    message_id: str | None,
    status: str,
    at: datetime,
    *,
    error: APIError | None = None,
    text: dict[str, str] | None = None,
) -> None:
    attempt: dict[str, Any] = {
        "channel": channel,
        "channel_id": channel_id,
        "message_id": message_id,
        "status": status,
        "error": {"code": error.code, "message": error.message} if error else None,
        "at": at.isoformat(),
    }
    if text is not None:
        attempt["text"] = text  # the text with {{code}} still open, for ``reveal``
    verification.attempts = [*verification.attempts, attempt]


async def _channel(session: AsyncSession, tenant: Tenant, requested: str) -> Channel:
    if requested.startswith("ch_"):
        channel = await channels.get(session, tenant, requested, param="channels")
        if channel.type not in (ChannelType.WHATSAPP, ChannelType.SMS, ChannelType.EMAIL):
            raise InvalidRequestError(
                "channel_type_unsupported",
                f"Channel {channel.id} is a {channel.type} channel; codes go by WhatsApp, SMS or email.",
                param="channels",
            )
    else:
        found = await session.scalar(
            channels.scoped(tenant)
            .where(Channel.type == requested, Channel.status == "active")
            .order_by(Channel.id)
            .limit(1)
        )
        if found is None:
            raise NotFoundError(
                "channel_not_found",
                f"This workspace has no active {requested} channel in this mode.",
                param="channels",
            )
        channel = found
    channels.require_usable(channel)
    return channel


async def _send(
    session: AsyncSession,
    verification: Verification,
    settings: Settings,
    rules: VerificationSettings,
    channel: Channel,
    now: datetime,
) -> tuple[Message, dict[str, str] | None]:
    """Accept the code's message on ``channel`` (masked; high-priority lane). Returns it
    and the text with ``{{code}}`` still open (None for a WhatsApp template)."""
    tenant = TenantRef(verification.workspace_id, Mode(verification.mode))
    mask = MASK * verification.code_length
    body: dict[str, Any] = {
        "channel_id": channel.id,
        "priority": Priority.HIGH,
        "reference": verification.id,
        "metadata": {"verification_id": verification.id},
    }
    text: dict[str, str] | None = None
    if channel.type == ChannelType.WHATSAPP:
        template = await _authentication_template(session, channel, verification.locale)
        body |= {
            "to": verification.to,
            "template": {
                "name": template.name,
                "language": template.language,
                "parameters": {"body": [mask], "buttons": [mask]},
            },
        }
    else:
        if channel.type == ChannelType.SMS:
            await _refuse_sms(session, tenant, settings, rules, verification.to, now)
        minutes = str(max(1, math.ceil((verification.expires_at - now).total_seconds() / 60)))
        brand = verification.brand or await _workspace_name(session, verification.workspace_id)
        text = texts.fill(
            texts.text_for(channel.type, verification.locale, rules.templates),
            {"minutes": minutes, "brand": brand},
        )
        shown = texts.fill(text, {"code": mask})
        if channel.type == ChannelType.SMS:
            body |= {"to": verification.to, "text": {"body": shown["body"]}}
        else:
            body |= {"to": verification.email, "email": {"subject": shown["subject"], "text": shown["text"]}}
    message = await messages.accept(session, tenant, now, SendMessage.model_validate(body))
    return message, text


async def _workspace_name(session: AsyncSession, workspace_id: str) -> str:
    workspace = await session.get(Workspace, workspace_id)
    assert workspace is not None
    return workspace.name


async def _authentication_template(session: AsyncSession, channel: Channel, locale: str) -> Template:
    """The channel's APPROVED AUTHENTICATION template in the locale (exactly, else its
    language, else a regional variant of it)."""
    language = texts.language_of(locale)
    candidates = (
        await session.scalars(
            select(Template)
            .where(
                Template.channel_id == channel.id,
                Template.category == TemplateCategory.AUTHENTICATION,
                Template.status == TemplateStatus.APPROVED,
            )
            .order_by(Template.id)
        )
    ).all()
    for matches in (
        lambda t: t.language == locale,
        lambda t: t.language == language,
        lambda t: texts.language_of(t.language) == language,
    ):
        found = next((t for t in candidates if matches(t)), None)
        if found is not None:
            return found
    raise NotFoundError(
        "template_not_found",
        f"WhatsApp channel {channel.id} has no APPROVED authentication template in '{locale}'. Create "
        "one with POST /v1/verifications/templates/whatsapp.",
        param="locale",
    )


async def _refuse_sms(
    session: AsyncSession,
    tenant: Tenant,
    settings: Settings,
    rules: VerificationSettings,
    to: str,
    now: datetime,
) -> None:
    """SMS pumping guards: the workspace's country allow-list, and a velocity limit per
    number prefix (pumping fraud sends to many numbers of one operator's range)."""
    country = region_of(to)
    allowed = rules.sms_allowed_countries
    if allowed is not None and country not in allowed:
        raise PolicyError(
            "country_not_allowed",
            f"SMS codes to {country or 'this number'} are not allowed in this workspace; allow the country "
            "with PATCH /v1/verifications/settings (sms_allowed_countries).",
            param="to",
            details={"country": country, "allowed": allowed},
        )
    prefix = to[: 1 + settings.verification_sms_prefix_digits]
    hour = timedelta(hours=1)
    recent = (
        await session.scalars(
            select(Verification.created_at)
            .where(
                Verification.workspace_id == tenant.workspace_id,
                Verification.mode == tenant.mode,
                Verification.to.startswith(prefix, autoescape=True),
                Verification.created_at > now - hour,
            )
            .order_by(Verification.created_at.desc())
            .limit(settings.verification_sms_prefix_per_hour + 1)
        )
    ).all()
    if len(recent) > settings.verification_sms_prefix_per_hour:
        raise _rate_limited(
            recent[-1] + hour - now,
            f"Unusually many codes went to numbers starting {prefix} in the last hour (SMS pumping guard).",
            "sms_prefix_velocity",
        )


async def follow(
    session: AsyncSession, verification: Verification, settings: Settings, message: Message, now: datetime
) -> None:
    """A message of the verification was delivered or failed: record it on its attempt;
    when the current attempt failed, try the next channel."""
    index = _attempt_index(verification, message.id)
    if index is None:
        return
    if message.status in (MessageStatus.DELIVERED, MessageStatus.READ):
        _set_attempt(verification, index, status="delivered")
        return
    if message.status == MessageStatus.SENT:
        if verification.attempts[index]["status"] == "queued":
            _set_attempt(verification, index, status="sent")
        return
    if message.status != MessageStatus.FAILED:
        return
    error = message.error or {}
    _set_attempt(
        verification,
        index,
        status="failed",
        error={k: error.get(k) for k in ("code", "message", "provider_code")},
    )
    if index == len(verification.attempts) - 1 and await still_pending(session, verification, now):
        await advance(session, verification, settings, now, _code(verification))


async def delivery_timed_out(
    session: AsyncSession, verification: Verification, settings: Settings, message: Message, now: datetime
) -> None:
    """No delivery receipt in time for the current attempt: try the next channel, if any
    (the message itself goes on; a late receipt is still recorded). An SMTP relay gives
    no receipt beyond accepting the email, so an email counts once it is sent."""
    index = _attempt_index(verification, message.id)
    receipts = {MessageStatus.DELIVERED, MessageStatus.READ, MessageStatus.FAILED}
    if index is not None and verification.attempts[index]["channel"] == ChannelType.EMAIL:
        receipts.add(MessageStatus.SENT)
    if (
        index is None
        or index != len(verification.attempts) - 1
        or len(verification.attempts) == len(verification.channels)
        or message.status in receipts
        or not await still_pending(session, verification, now)
    ):
        return
    _set_attempt(verification, index, status="timed_out")
    await advance(session, verification, settings, now, _code(verification))


def _attempt_index(verification: Verification, message_id: str) -> int | None:
    return next((i for i, a in enumerate(verification.attempts) if a.get("message_id") == message_id), None)


def _set_attempt(verification: Verification, index: int, **changes: Any) -> None:
    attempts = [dict(a) for a in verification.attempts]
    if attempts[index]["status"] == "delivered":
        return  # a delivery is final for the attempt
    attempts[index].update(changes)
    verification.attempts = attempts


async def reveal(session: AsyncSession, message: Message, outbound: OutboundMessage) -> OutboundMessage:
    """The code put back into an OTP message as handed to its provider (memory only)."""
    if not (message.reference or "").startswith(ID_PREFIX):
        return outbound
    verification = await session.scalar(
        scoped(TenantRef(message.workspace_id, Mode(message.mode))).where(
            Verification.id == message.reference
        )
    )
    index = _attempt_index(verification, message.id) if verification else None
    code = _code(verification) if verification else None
    if verification is None or index is None or code is None:
        return outbound
    mask = MASK * verification.code_length
    text = verification.attempts[index].get("text")
    content = outbound.content
    if text is not None and content is not None:
        content = {**content, **texts.fill(text, {"code": code})}
    template = outbound.template
    if template is not None:
        template = TemplateSend(
            template.name, template.language, template.category, _unmask(template.components, mask, code)
        )
    return OutboundMessage(
        outbound.message_id, outbound.recipient, outbound.content_type, content, template, outbound.metadata
    )


def _unmask(value: Any, mask: str, code: str) -> Any:
    """Every parameter value that is exactly the mask, replaced by the code."""
    if isinstance(value, dict):
        return {key: _unmask(item, mask, code) for key, item in value.items()}
    if isinstance(value, list):
        return [_unmask(item, mask, code) for item in value]
    return code if value == mask else value


# --- checking ------------------------------------------------------------------------


async def check(
    session: AsyncSession, tenant: Tenant, verification_id: str, candidate: str, now: datetime
) -> CheckOut:
    """One check, spent atomically (a conditional UPDATE): of any number of concurrent
    checks with the right code, exactly one approves."""
    spent = (
        await session.execute(
            update(Verification)
            .where(
                Verification.id == verification_id,
                Verification.workspace_id == tenant.workspace_id,
                Verification.mode == tenant.mode,
                Verification.status == VerificationStatus.PENDING,
                Verification.checks_left > 0,
                Verification.expires_at > now,
            )
            .values(checks_left=Verification.checks_left - 1, updated_at=now)
            .returning(Verification.code_hash, Verification.checks_left)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if spent is None:
        verification = await get(session, tenant, verification_id, lock=True)
        if verification.status == VerificationStatus.APPROVED:
            raise _already_used(verification)
        await still_pending(session, verification, now)
        return _check_out(verification, valid=False)
    code_hash, checks_left = spent
    if code_matches(verification_id, code_hash, candidate):
        approved = (
            await session.execute(
                update(Verification)
                .where(Verification.id == verification_id, Verification.status == VerificationStatus.PENDING)
                .values(status=VerificationStatus.APPROVED, approved_at=now, code_sealed=None, updated_at=now)
                .returning(Verification.id)
                .execution_options(synchronize_session=False)
            )
        ).first()
        verification = await get(session, tenant, verification_id)
        await session.refresh(verification)
        if approved is None:
            raise _already_used(verification)
        await _close_messages(session, verification, now)
        _record_event(session, verification, EventType.VERIFICATION_APPROVED, now)
        return _check_out(verification, valid=True)
    verification = await get(session, tenant, verification_id, lock=True)
    await session.refresh(verification)
    if checks_left == 0 and verification.status == VerificationStatus.PENDING:
        await close(
            session, verification, VerificationStatus.MAX_ATTEMPTS_REACHED, now, reason="max_attempts_reached"
        )
    return _check_out(verification, valid=False)


async def latest_for(session: AsyncSession, tenant: Tenant, raw_to: str) -> Verification:
    to = email_address.normalize(raw_to, param="to") if "@" in raw_to else to_e164(raw_to, param="to")
    found = await session.scalar(
        scoped(tenant)
        .where(Verification.to == to)
        .order_by(Verification.created_at.desc(), Verification.id.desc())
    )
    if found is None:
        raise NotFoundError("verification_not_found", f"No verification was sent to {to}.", param="to")
    return found


def _already_used(verification: Verification) -> ConflictError:
    return ConflictError(
        "verification_already_approved",
        f"Verification {verification.id} was already approved: a code is good for one check. Send a new one.",
        param="code",
        details={"status": verification.status},
    )


def _check_out(verification: Verification, *, valid: bool) -> CheckOut:
    return CheckOut(
        id=verification.id,
        status=verification.status,
        valid=valid,
        checks_left=verification.checks_left,
        to=verification.to,
        channel=verification.channel,
    )


# --- closing -------------------------------------------------------------------------


async def still_pending(session: AsyncSession, verification: Verification, now: datetime) -> bool:
    """Whether it is pending; one found past its expiry is expired now."""
    if verification.status != VerificationStatus.PENDING:
        return False
    if verification.expires_at <= now:
        await close(session, verification, VerificationStatus.EXPIRED, now, reason="expired")
        return False
    return True


async def close(
    session: AsyncSession,
    verification: Verification,
    status: VerificationStatus,
    now: datetime,
    *,
    reason: str | None = None,
) -> None:
    """End a pending verification: the sealed code is erased and its messages not yet
    handed over are not sent; with a ``reason``, ``verification.failed`` is recorded."""
    verification.status = status
    verification.code_sealed = None
    verification.updated_at = now
    await _close_messages(session, verification, now)
    if reason is not None:
        _record_event(session, verification, EventType.VERIFICATION_FAILED, now, reason=reason)


async def _close_messages(session: AsyncSession, verification: Verification, now: datetime) -> None:
    message_ids = [a["message_id"] for a in verification.attempts if a.get("message_id")]
    if not message_ids:
        return
    waiting = await session.scalars(
        select(Message).where(Message.id.in_(message_ids), Message.status.in_(OPEN)).with_for_update()
    )
    for message in waiting:
        messages.fail(
            session,
            message,
            now,
            code="verification_closed",
            text=f"Verification {verification.id} is {verification.status}: its code is no longer sent.",
        )


def _record_event(
    session: AsyncSession,
    verification: Verification,
    type: EventType,
    now: datetime,
    *,
    reason: str | None = None,
) -> None:
    data = to_out(verification).model_dump(mode="json")
    if reason is not None:
        data["reason"] = reason
    channel_id = next((a["channel_id"] for a in reversed(verification.attempts) if a.get("channel_id")), None)
    events.record(session, verification, type, data, at=now, channel_id=channel_id)


async def cancel(session: AsyncSession, tenant: Tenant, verification_id: str, now: datetime) -> Verification:
    verification = await get(session, tenant, verification_id, lock=True)
    if not await still_pending(session, verification, now):
        raise ConflictError(
            "verification_not_pending",
            f"Verification {verification.id} is {verification.status}; only a pending one can be canceled.",
            details={"status": verification.status},
        )
    await close(session, verification, VerificationStatus.CANCELED, now)
    return verification


# --- showing -------------------------------------------------------------------------


def to_out(verification: Verification, test_code: str | None = None) -> VerificationOut:
    attempts = [
        AttemptOut.model_validate({k: v for k, v in a.items() if k != "text"}) for a in verification.attempts
    ]
    delivered = next((a.channel for a in attempts if a.status == "delivered"), None)
    return VerificationOut(
        id=verification.id,
        status=verification.status,
        to=verification.to,
        email=verification.email,
        channel=verification.channel,
        delivered_channel=delivered,
        attempts=attempts,
        checks_left=verification.checks_left,
        code_length=verification.code_length,
        locale=verification.locale,
        expires_at=verification.expires_at,
        approved_at=verification.approved_at,
        created_at=verification.created_at,
        test_code=test_code,
    )


async def report(
    session: AsyncSession, tenant: Tenant, since: datetime | None, until: datetime | None
) -> list[tuple[str, int, int]]:
    """Per channel of the latest attempt: verifications and how many were approved."""
    statement = (
        select(
            Verification.channel,
            func.count(),
            func.count().filter(Verification.status == VerificationStatus.APPROVED),
        )
        .where(
            Verification.workspace_id == tenant.workspace_id,
            Verification.mode == tenant.mode,
            Verification.channel.is_not(None),
        )
        .group_by(Verification.channel)
        .order_by(Verification.channel)
    )
    if since is not None:
        statement = statement.where(Verification.created_at >= since)
    if until is not None:
        statement = statement.where(Verification.created_at < until)
    return [
        (str(channel), int(total), int(approved))
        for channel, total, approved in await session.execute(statement)
    ]
