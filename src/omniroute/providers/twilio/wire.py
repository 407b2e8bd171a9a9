"""Twilio's wire format: the form a send posts, its answers and errors mapped into the
provider error tree, and the status callbacks and inbound SMS webhooks it posts back
turned into provider events."""

from datetime import datetime
from typing import Any

from omniroute.providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderOutcomeUnknown,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTransientError,
)
from omniroute.providers.events import InboundMessage, ProviderEvent, ReportedError, StatusUpdate

RATE_LIMITED = 20429
"""Too many requests (HTTP 429)."""
AUTH_FAILED = 20003
DEFAULT_RETRY_AFTER = 1.0

SEND_ERRORS: dict[int, tuple[str, str]] = {
    21211: ("invalid_recipient", "The 'To' number is not a valid phone number."),
    21614: ("invalid_recipient", "The 'To' number is not a mobile number."),
    21610: ("recipient_opted_out", "The recipient replied STOP to this sender: it may not be messaged."),
    21408: ("region_not_enabled", "Sending to this region is not enabled on the account."),
    21612: ("undeliverable", "This sender cannot reach the 'To' number."),
    21606: ("sender_invalid", "The 'From' number is not a number of this account that can send SMS."),
    21602: ("parameter_invalid", "The message body is required."),
    21617: ("text_too_long", "The message body exceeds 1600 characters."),
}
"""Twilio's send refusals that are final, as our error code and meaning."""

DELIVERY_ERRORS: dict[int, str] = {
    30003: "undeliverable",  # unreachable handset
    30005: "undeliverable",  # unknown destination handset
    30006: "undeliverable",  # landline or unreachable carrier
    30004: "blocked",  # message blocked (the recipient or carrier)
    30007: "filtered",  # carrier filtering (spam)
    30008: "provider_failed",  # unknown error
}

STATUSES: dict[str, str] = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "failed",
    "failed": "failed",
}
"""Twilio's ``MessageStatus`` values that move a message; ``accepted``, ``queued``,
``sending`` and ``scheduled`` say nothing it does not already show."""


def send_form(recipient: str, sender: str, body: str, status_callback: str | None) -> dict[str, str]:
    form = {"To": recipient, "From": sender, "Body": body}
    if status_callback:
        form["StatusCallback"] = status_callback
    return form


def receipt_sid(answer: Any) -> str:
    """The ``sid`` of a 2xx answer; a 2xx without one leaves the outcome unknown."""
    sid = answer.get("sid") if isinstance(answer, dict) else None
    if not isinstance(sid, str) or not sid:
        raise ProviderOutcomeUnknown("Twilio answered 2xx without a message sid.")
    return sid


def error_from_response(status: int, body: Any, retry_after: str | None = None) -> ProviderError:
    """A non-2xx answer (``{"code", "message", "more_info", "status"}``) as a provider error."""
    code = body.get("code") if isinstance(body, dict) else None
    detail = body.get("message") if isinstance(body, dict) else None
    text = f"Twilio error {code}: {detail}" if code else f"Twilio answered HTTP {status}."
    if code == RATE_LIMITED or status == 429:
        wait = float(retry_after) if retry_after and retry_after.isdigit() else DEFAULT_RETRY_AFTER
        return ProviderRateLimited(
            text, code="provider_rate_limited", provider_code=code or status, retry_after=wait
        )
    if code == AUTH_FAILED or status in (401, 403):
        return ProviderAuthError(text, code="credentials_rejected", provider_code=code or status)
    if isinstance(code, int) and code in SEND_ERRORS:
        ours, meaning = SEND_ERRORS[code]
        return ProviderRejected(f"{meaning} ({text})", code=ours, provider_code=code)
    if status >= 500:
        return ProviderTransientError(text, code="provider_unavailable", provider_code=code or status)
    return ProviderRejected(text, code="provider_rejected", provider_code=code or status)


def parse_callback(params: dict[str, str], received_at: datetime) -> list[ProviderEvent]:
    """A status callback (``MessageStatus``) or an inbound SMS (``Body`` with status
    ``received``). Twilio's callbacks carry no time of their own: they count from when
    they arrived."""
    sid = params.get("MessageSid") or params.get("SmsSid")
    status = params.get("MessageStatus") or params.get("SmsStatus") or ""
    if not sid:
        return []
    if status == "received" or ("Body" in params and status not in STATUSES):
        return [
            InboundMessage(
                provider_message_id=sid,
                sender=params.get("From", ""),
                timestamp=received_at,
                content_type="text",
                content={"body": params.get("Body", "")},
            )
        ]
    ours = STATUSES.get(status)
    if ours is None:
        return []
    error = None
    if ours == "failed":
        code = params.get("ErrorCode") or ""
        number = int(code) if code.isdigit() else None
        error = ReportedError(
            code=DELIVERY_ERRORS.get(
                number or 0, "undeliverable" if status == "undelivered" else "provider_failed"
            ),
            message=f"Twilio reports the message {status}"
            + (
                f" with error {code} ({params['ErrorMessage']})."
                if params.get("ErrorMessage")
                else f" (error {code or 'none'})."
            ),
            provider_code=number if number is not None else (code or None),
        )
    return [
        StatusUpdate(
            provider_message_id=sid,
            status=ours,
            timestamp=received_at,
            recipient=params.get("To", ""),
            error=error,
        )
    ]
