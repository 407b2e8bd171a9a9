"""Meta's webhook payloads turned into provider-neutral events, with no I/O.

Every ``entry[].changes[]`` item becomes zero or more ``ParsedEvent``: the event and,
for the ``messages`` field, the phone number id it concerns (one app's webhook may
carry several numbers). Fields and kinds we do not know are kept raw as an
``AccountNotice`` or an inbound message of that kind, and logged at WARNING."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from omniroute.core.time import utcnow
from omniroute.policy import errors as meta_errors
from omniroute.policy.limits import MAX_THROUGHPUT_PER_SECOND, THROUGHPUT_UPGRADE_EVENT, QualityRating
from omniroute.policy.message_format import MEDIA_TYPES
from omniroute.providers.events import (
    AccountNotice,
    ChannelQualityUpdate,
    InboundMessage,
    ProviderEvent,
    ReportedError,
    StatusUpdate,
    TemplateCategoryUpdate,
    TemplateQualityUpdate,
    TemplateReview,
)
from omniroute.providers.meta import wire

log = logging.getLogger(__name__)

PASSED_THROUGH = ("location", "interactive", "button", "reaction", "order", "system")
"""Inbound kinds whose object is stored as Meta sent it."""
STATUSES = ("sent", "delivered", "read", "failed")
NOTICE_FIELDS = ("business_capability_update", "account_update", "user_preferences")
"""Account-level fields that change no state of ours: kept and logged."""
QUALITY_BY_EVENT = {"FLAGGED": QualityRating.RED, "UNFLAGGED": QualityRating.GREEN}
"""``phone_number_quality_update`` events that say what the number's quality became."""


@dataclass(frozen=True)
class ParsedEvent:
    event: ProviderEvent
    phone_number_id: str | None = None


def parse(payload: dict[str, Any]) -> list[ParsedEvent]:
    parsed: list[ParsedEvent] = []
    for entry in payload.get("entry") or []:
        when = _time(entry.get("time"))
        for change in entry.get("changes") or []:
            field = str(change.get("field", ""))
            value = change.get("value") or {}
            try:
                parsed.extend(_change(field, value, when))
            except (KeyError, TypeError, ValueError) as exc:  # pydantic's ValidationError too
                log.warning("meta webhook: %r change not understood (%s); kept raw: %s", field, exc, value)
                raw = value if isinstance(value, dict) else {"value": value}
                parsed.append(ParsedEvent(AccountNotice(field=field, value=raw, timestamp=when)))
    return parsed


def _change(field: str, value: dict[str, Any], when: datetime) -> list[ParsedEvent]:
    if field == "messages":
        return _messages(value, when)
    event: ProviderEvent
    if field == "message_template_status_update":
        event = TemplateReview(
            provider_template_id=str(value["message_template_id"]),
            name=str(value["message_template_name"]),
            language=str(value["message_template_language"]),
            status=str(value["event"]),
            reason=_review_reason(value),
            timestamp=when,
        )
    elif field == "template_category_update":
        event = _category_update(value, when)
    elif field == "message_template_quality_update":
        event = TemplateQualityUpdate(
            provider_template_id=_optional_id(value.get("message_template_id")),
            name=str(value["message_template_name"]),
            language=str(value["message_template_language"]),
            previous_score=value.get("previous_quality_score"),
            new_score=str(value["new_quality_score"]),
            timestamp=when,
        )
    elif field == "phone_number_quality_update":
        event = _quality_update(value, when)
    else:
        if field not in NOTICE_FIELDS:
            log.warning("meta webhook: unknown field %r kept raw: %s", field, value)
        event = AccountNotice(field=field, value=value, timestamp=when)
    return [ParsedEvent(event)]


def _category_update(value: dict[str, Any], when: datetime) -> TemplateCategoryUpdate:
    """With ``correct_category`` it is announced a day ahead (``new_category`` is then
    the current one); with ``previous_category`` it has happened."""
    common = {
        "provider_template_id": _optional_id(value.get("message_template_id")),
        "name": str(value["message_template_name"]),
        "language": str(value["message_template_language"]),
        "timestamp": when,
    }
    if "correct_category" in value:
        return TemplateCategoryUpdate(
            **common,
            previous_category=str(value.get("new_category", "")),
            new_category=str(value["correct_category"]),
            stage="announced",
        )
    return TemplateCategoryUpdate(
        **common,
        previous_category=str(value.get("previous_category", "")),
        new_category=str(value["new_category"]),
        stage="completed",
    )


def _quality_update(value: dict[str, Any], when: datetime) -> ChannelQualityUpdate:
    event = str(value.get("event", ""))
    quality = QUALITY_BY_EVENT.get(event)
    return ChannelQualityUpdate(
        event=event,
        quality_rating=quality.value if quality else None,
        messaging_tier=wire.messaging_tier(value.get("current_limit"))
        or wire.messaging_tier(value.get("max_daily_conversations_per_business")),
        throughput_per_second=MAX_THROUGHPUT_PER_SECOND if event == THROUGHPUT_UPGRADE_EVENT else None,
        timestamp=when,
    )


def _messages(value: dict[str, Any], when: datetime) -> list[ParsedEvent]:
    phone_number_id = (value.get("metadata") or {}).get("phone_number_id")
    phone_number_id = str(phone_number_id) if phone_number_id else None
    profiles = {
        str(c.get("wa_id")): (c.get("profile") or {}).get("name") for c in value.get("contacts") or []
    }
    events: list[ProviderEvent] = []
    for status in value.get("statuses") or []:
        events.append(_status(status))
    for message in value.get("messages") or []:
        events.append(_inbound(message, profiles))
    for error in value.get("errors") or []:
        log.warning("meta webhook: error reported for the number: %s", error)
        events.append(AccountNotice(field="messages.errors", value=error, timestamp=when))
    return [ParsedEvent(event, phone_number_id) for event in events]


def _status(status: dict[str, Any]) -> ProviderEvent:
    name = str(status.get("status", ""))
    timestamp = _time(status.get("timestamp"))
    if name not in STATUSES:
        log.warning("meta webhook: unknown status %r kept raw: %s", name, status)
        return AccountNotice(field=f"messages.status.{name}", value=status, timestamp=timestamp)
    pricing = status.get("pricing")
    if isinstance(pricing, dict) and status.get("conversation"):
        pricing = {**pricing, "conversation": status["conversation"]}
    errors = status.get("errors") or []
    return StatusUpdate(
        provider_message_id=str(status["id"]),
        status=name,
        timestamp=timestamp,
        recipient=_e164(status.get("recipient_id")),
        client_reference=status.get("biz_opaque_callback_data") or None,
        error=reported_error(errors[0]) if errors else None,
        pricing=pricing if isinstance(pricing, dict) else None,
    )


def reported_error(error: dict[str, Any]) -> ReportedError:
    """A Graph error object from a webhook, classified by its code like a send error."""
    code = error.get("code")
    meaning = meta_errors.classify(code) if isinstance(code, int) else None
    details = (error.get("error_data") or {}).get("details")
    return ReportedError(
        code=meaning.our_code if meaning else "provider_failed",
        message=str(details or error.get("title") or (meaning.meaning if meaning else "failed")),
        provider_code=code if isinstance(code, int | str) else None,
    )


def _inbound(message: dict[str, Any], profiles: dict[str, Any]) -> InboundMessage:
    kind = str(message.get("type", "unsupported"))
    sender = str(message.get("from", ""))
    content: dict[str, Any]
    if kind == "text":
        content = {"body": str((message.get("text") or {}).get("body", ""))}
    elif kind in MEDIA_TYPES:
        media = dict(message.get(kind) or {})
        content = {"media_id": str(media.pop("id", ""))} | media
    elif kind == "contacts":
        content = {"contacts": list(message.get("contacts") or [])}
    elif kind == "unsupported":
        content = {"errors": list(message.get("errors") or [])}
    elif kind in PASSED_THROUGH:
        content = dict(message.get(kind) or {})
    else:
        log.warning("meta webhook: unknown inbound kind %r kept raw: %s", kind, message)
        content = {key: value for key, value in message.items() if key not in ("from", "id", "timestamp")}
    if message.get("context"):
        content["context"] = message["context"]
    referral = message.get("referral")
    return InboundMessage(
        provider_message_id=str(message["id"]),
        sender=_e164(sender),
        timestamp=_time(message.get("timestamp")),
        content_type=kind,
        content=content,
        profile_name=profiles.get(sender),
        referral=referral if isinstance(referral, dict) else None,
    )


def _e164(wa_id: Any) -> str:
    text = str(wa_id or "")
    return text if text.startswith("+") or not text else f"+{text}"


def _time(raw: Any) -> datetime:
    """Meta's timestamps are Unix seconds (as text in ``messages``, numbers in ``entry``)."""
    try:
        return datetime.fromtimestamp(int(raw), UTC)
    except (TypeError, ValueError):
        return utcnow()


def _reason(raw: Any) -> str | None:
    return None if raw in (None, "", "NONE") else str(raw)


def _review_reason(value: dict[str, Any]) -> str | None:
    """The rejection code, followed by the sentence Meta gives in ``rejection_info``
    (``"INVALID_FORMAT: Variables can't be at the end"``), as our templates keep it."""
    code = _reason(value.get("reason"))
    info = value.get("rejection_info")
    explanation = info.get("reason") if isinstance(info, dict) else None
    if not explanation:
        return code
    return f"{code}: {explanation}" if code else str(explanation)


def _optional_id(raw: Any) -> str | None:
    return None if raw is None else str(raw)
