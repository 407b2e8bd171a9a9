"""Meta's wire format, with no I/O: request bodies for every message kind, and Graph
API responses and transport failures turned into our provider errors.

Errors are classified from Meta's numeric ``code`` (``policy.errors``) and the HTTP
status, never from message text; ``error_data.details`` only explains."""

from typing import Any

import aiohttp

from omniroute.policy import errors as meta_errors
from omniroute.policy.errors import RetryClass
from omniroute.policy.limits import THROUGHPUT_BY_LEVEL, MessagingTier, QualityRating
from omniroute.policy.message_format import CAPTIONED_MEDIA, MEDIA_TYPES
from omniroute.providers.base import (
    ChannelFacts,
    OutboundMessage,
    ProviderTemplate,
    SendReceipt,
    TemplateDefinition,
)
from omniroute.providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderOutcomeUnknown,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTransientError,
)

RATE_LIMIT_CODES = frozenset(
    {
        meta_errors.THROUGHPUT_LIMIT,
        meta_errors.PAIR_RATE_LIMIT,
        meta_errors.APP_RATE_LIMIT,
        meta_errors.WABA_RATE_LIMIT,
    }
)
HTTP_TOO_MANY_REQUESTS = 429
HTTP_AUTH_STATUSES = (401, 403)

NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
"""Transport failures that happen before the request leaves (no connection could be made:
refused, unresolvable, TLS handshake failed, or a connect or pool wait timed out): safe
to retry."""

TEMPLATE_FIELDS = "id,name,language,status,category,components,rejected_reason,quality_score"
PHONE_NUMBER_FIELDS = (
    "display_phone_number,verified_name,quality_rating,throughput,"
    "whatsapp_business_manager_messaging_limit,messaging_limit_tier"
)
"""What ``check`` reads of the phone number: ``whatsapp_business_manager_messaging_limit``
is the portfolio's limit that replaced the deprecated ``messaging_limit_tier`` (read as a
fallback)."""


def message_payload(message: OutboundMessage, references: dict[str, str]) -> dict[str, Any]:
    """``POST /{phone_number_id}/messages`` body. ``references`` maps the message ids the
    content refers to (``reply_to``, a reaction's ``message_id``) to Meta's wamids."""
    payload: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.recipient,
        "biz_opaque_callback_data": message.message_id,
    }
    content = dict(message.content or {})
    reply_to = content.pop("reply_to", None)
    if reply_to:
        payload["context"] = {"message_id": references.get(reply_to, reply_to)}
    kind = message.content_type
    payload["type"] = kind
    if kind == "template":
        assert message.template is not None
        template: dict[str, Any] = {
            "name": message.template.name,
            "language": {"code": message.template.language},
        }
        if message.template.components:
            template["components"] = message.template.components
        payload["template"] = template
    elif kind == "text":
        payload["text"] = {"body": content["body"], "preview_url": bool(content.get("preview_url", False))}
    elif kind in MEDIA_TYPES:
        payload[kind] = media_object(kind, content)
    elif kind == "reaction":
        target = content["message_id"]
        payload["reaction"] = {"message_id": references.get(target, target), "emoji": content["emoji"]}
    elif kind == "contacts":
        payload["contacts"] = content["contacts"]
    else:  # interactive and location are already in Meta's shape
        payload[kind] = content
    return payload


def media_object(kind: str, content: dict[str, Any]) -> dict[str, Any]:
    media: dict[str, Any] = (
        {"id": content["media_id"]} if "media_id" in content else {"link": content["link"]}
    )
    if kind in CAPTIONED_MEDIA and content.get("caption"):
        media["caption"] = content["caption"]
    if kind == "document" and content.get("filename"):
        media["filename"] = content["filename"]
    return media


def referenced_ids(message: OutboundMessage) -> list[str]:
    """Our message ids the content points at, which must become Meta's wamids."""
    content = message.content or {}
    candidates = [content.get("reply_to")]
    if message.content_type == "reaction":
        candidates.append(content.get("message_id"))
    return [ref for ref in candidates if isinstance(ref, str) and ref.startswith("msg_")]


def mark_read_payload(provider_message_id: str) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "status": "read", "message_id": provider_message_id}


def template_payload(template: TemplateDefinition) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": template.name,
        "language": template.language,
        "category": template.category,
        "components": template.components,
    }
    if template.message_send_ttl_seconds is not None:
        payload["message_send_ttl_seconds"] = template.message_send_ttl_seconds
    return payload


def send_receipt(body: Any) -> SendReceipt:
    """Read the send response. ``paused`` means Meta will not send it (paused template)."""
    try:
        sent = body["messages"][0]
        provider_message_id = str(sent["id"])
    except (KeyError, IndexError, TypeError) as exc:
        raise ProviderOutcomeUnknown(
            "Meta answered the send without a message id; it may have been accepted."
        ) from exc
    status = str(sent.get("message_status") or "accepted")
    if status == "paused":
        raise ProviderRejected(
            "Meta paused this template because of its quality; the message was not sent.",
            code="template_paused",
            provider_code="paused",
        )
    return SendReceipt(provider_message_id, status)


def channel_facts(body: dict[str, Any]) -> ChannelFacts:
    """The channel as Meta's phone number object describes it."""
    display = str(body.get("display_phone_number") or "")
    digits = "".join(ch for ch in display if ch.isdigit())
    throughput = body.get("throughput")
    level = str(throughput.get("level", "")).upper() if isinstance(throughput, dict) else ""
    quality = str(body.get("quality_rating") or "").upper()
    return ChannelFacts(
        address=f"+{digits}" if digits else None,
        name=str(body["verified_name"]) if body.get("verified_name") else None,
        quality_rating=quality if quality in QualityRating.__members__.values() else None,
        throughput_per_second=THROUGHPUT_BY_LEVEL.get(level),
        messaging_tier=messaging_tier(body.get("whatsapp_business_manager_messaging_limit"))
        or messaging_tier(body.get("messaging_limit_tier")),
    )


def messaging_tier(raw: Any) -> str | None:
    """Meta's limit names (``TIER_2K``, or ``2K`` in newer payloads) as our tier."""
    if not raw:
        return None
    name = str(raw).upper()
    name = name if name.startswith("TIER_") else f"TIER_{name}"
    return name if name in MessagingTier.__members__.values() else None


def provider_template(item: dict[str, Any]) -> ProviderTemplate:
    reason = item.get("rejected_reason")
    quality = item.get("quality_score")
    return ProviderTemplate(
        provider_template_id=str(item["id"]),
        name=str(item["name"]),
        language=str(item["language"]),
        category=str(item.get("category", "")),
        status=str(item.get("status", "")),
        components=list(item.get("components") or []),
        rejection_reason=None if reason in (None, "NONE") else str(reason),
        quality_score=str(quality.get("score"))
        if isinstance(quality, dict) and quality.get("score")
        else None,
    )


def next_cursor(body: dict[str, Any]) -> str | None:
    """The ``after`` cursor of a listing page, or None on the last page (no ``next``)."""
    paging = body.get("paging") or {}
    if not paging.get("next"):
        return None
    after = (paging.get("cursors") or {}).get("after")
    return str(after) if after else None


def error_from_response(status_code: int, body: Any) -> ProviderError:
    """A non-2xx Graph API answer as a provider error, classified by Meta's ``code``."""
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    if not isinstance(code, int):
        return _error_without_code(status_code)
    assert isinstance(error, dict)
    details = (
        (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
    )
    meaning = meta_errors.classify(code)
    known = code in meta_errors.META_ERRORS
    text = f"Meta error {code} ({meaning.meaning})" + (f": {details}" if details else ".")
    if meaning.retry is RetryClass.AUTH:
        return ProviderAuthError(text, code=meaning.our_code, provider_code=code)
    if meaning.retry is RetryClass.FINAL and (known or status_code < meta_errors.SERVER_ERROR):
        return ProviderRejected(text, code=meaning.our_code, provider_code=code)
    retry_after = meta_errors.retry_after(meaning)
    if code in RATE_LIMIT_CODES or meaning.retry is RetryClass.LATER:
        return ProviderRateLimited(text, code=meaning.our_code, provider_code=code, retry_after=retry_after)
    our_code = meaning.our_code if known else "provider_unavailable"
    return ProviderTransientError(text, code=our_code, provider_code=code, retry_after=retry_after)


def _error_without_code(status_code: int) -> ProviderError:
    text = f"Meta answered HTTP {status_code} without an error code."
    if status_code >= meta_errors.SERVER_ERROR:
        return ProviderTransientError(text, code="provider_unavailable", provider_code=status_code)
    if status_code == HTTP_TOO_MANY_REQUESTS:
        return ProviderRateLimited(text, code="provider_rate_limited", provider_code=status_code)
    if status_code in HTTP_AUTH_STATUSES:
        return ProviderAuthError(text, code="channel_unavailable", provider_code=status_code)
    return ProviderRejected(text, code="provider_rejected", provider_code=status_code)


def error_from_transport(
    exc: Exception, *, request_written: bool = True, service: str = "the Graph API"
) -> ProviderError:
    """Before the request left (connect, pool, or the connection failed before the whole
    request was written, which no server acts on): retryable. After (no answer in time,
    a connection dropped once the request was written): the outcome is unknown and the
    request must not be repeated."""
    if isinstance(exc, NOT_SENT) or not request_written:
        return ProviderTransientError(
            f"Could not reach {service} ({type(exc).__name__}); nothing was sent.",
            code="provider_unreachable",
        )
    return ProviderOutcomeUnknown(
        f"The connection to {service} failed after the request was sent ({type(exc).__name__}).",
        code="send_outcome_unknown",
    )
