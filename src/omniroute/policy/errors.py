"""Meta's error codes and what each means for a retry (policy page section 5).

The classification drives the dispatcher: ``RETRYABLE`` codes are retried with
back-off, ``FINAL`` codes fail the message at once and keep Meta's code as
``provider_code``. Codes are matched on Meta's numeric ``code``, never on message text.
"""

from dataclasses import dataclass
from enum import StrEnum

from omniroute.policy.limits import PAIR_RATE_INTERVAL


class RetryClass(StrEnum):
    RETRY = "retry"  # transient: back off and try again
    LATER = "later"  # Meta asks for a long pause before trying again
    FINAL = "final"  # never retry
    AUTH = "auth"  # final, and the channel's credentials need operator action


@dataclass(frozen=True)
class MetaError:
    code: int
    meaning: str
    retry: RetryClass
    our_code: str  # the error code omniroute reports on the message


RE_ENGAGEMENT = 131047
UNDELIVERABLE = 131026
PAIR_RATE_LIMIT = 131056
THROUGHPUT_LIMIT = 130429
APP_RATE_LIMIT = 4
WABA_RATE_LIMIT = 80007
TEMPLATE_PARAM_COUNT = 132000
TEMPLATE_MISSING = 132001
TEMPLATE_PARAM_FORMAT = 132018
TEMPLATE_PAUSED = 132015
TEMPLATE_DISABLED = 132016

META_ERRORS: dict[int, MetaError] = {
    e.code: e
    for e in (
        MetaError(131047, "window closed: send an approved template", RetryClass.FINAL, "window_closed"),
        MetaError(131026, "message undeliverable", RetryClass.FINAL, "undeliverable"),
        MetaError(
            131049, "not delivered to keep the ecosystem healthy", RetryClass.LATER, "marketing_limited"
        ),
        MetaError(131050, "user stopped marketing messages", RetryClass.FINAL, "recipient_opted_out"),
        MetaError(131051, "unsupported message type", RetryClass.FINAL, "unsupported_message_type"),
        MetaError(131056, "pair rate limit hit", RetryClass.RETRY, "pair_rate_limited"),
        MetaError(130429, "throughput limit hit", RetryClass.RETRY, "throughput_limited"),
        MetaError(131048, "spam rate limit", RetryClass.LATER, "spam_rate_limited"),
        MetaError(131057, "account in maintenance", RetryClass.RETRY, "provider_maintenance"),
        MetaError(
            132000, "template parameter count mismatch", RetryClass.FINAL, "template_parameters_mismatch"
        ),
        MetaError(132001, "template missing or not approved", RetryClass.FINAL, "template_not_approved"),
        MetaError(132005, "hydrated text too long", RetryClass.FINAL, "template_text_too_long"),
        MetaError(132007, "format character policy violated", RetryClass.FINAL, "template_format_violation"),
        MetaError(132012, "parameter format mismatch", RetryClass.FINAL, "template_parameters_mismatch"),
        MetaError(
            132018,
            "template parameter has a newline, tab or run of spaces",
            RetryClass.FINAL,
            "template_parameters_mismatch",
        ),
        MetaError(132015, "template paused", RetryClass.FINAL, "template_paused"),
        MetaError(132016, "template disabled", RetryClass.FINAL, "template_disabled"),
        MetaError(133010, "phone number not registered", RetryClass.FINAL, "channel_unavailable"),
        MetaError(100, "invalid parameter", RetryClass.FINAL, "provider_rejected"),
        MetaError(190, "access token expired or invalid", RetryClass.AUTH, "channel_unavailable"),
        MetaError(10, "permission denied", RetryClass.AUTH, "channel_unavailable"),
        MetaError(200, "permission not granted to the app", RetryClass.AUTH, "channel_unavailable"),
        MetaError(4, "app rate limit", RetryClass.RETRY, "provider_rate_limited"),
        MetaError(80007, "WABA rate limit", RetryClass.RETRY, "provider_rate_limited"),
        MetaError(368, "temporarily blocked for policy violation", RetryClass.FINAL, "channel_unavailable"),
        MetaError(1, "unknown API error", RetryClass.RETRY, "provider_unavailable"),
        MetaError(2, "API service temporarily unavailable", RetryClass.RETRY, "provider_unavailable"),
        MetaError(131000, "something went wrong at Meta", RetryClass.RETRY, "provider_unavailable"),
        MetaError(131016, "service overloaded", RetryClass.RETRY, "provider_unavailable"),
        MetaError(133004, "server temporarily unavailable", RetryClass.RETRY, "provider_unavailable"),
        MetaError(131008, "required parameter missing", RetryClass.FINAL, "provider_rejected"),
        MetaError(131009, "parameter value invalid", RetryClass.FINAL, "provider_rejected"),
        MetaError(131021, "recipient is the sender", RetryClass.FINAL, "invalid_recipient"),
        MetaError(131031, "business account locked", RetryClass.FINAL, "channel_unavailable"),
        MetaError(131042, "business payment issue", RetryClass.FINAL, "channel_unavailable"),
        MetaError(131052, "media download error", RetryClass.FINAL, "media_unavailable"),
        MetaError(131053, "media upload error", RetryClass.FINAL, "media_unavailable"),
    )
}


PAIR_RATE_RETRY_AFTER = PAIR_RATE_INTERVAL.total_seconds()
"""After a pair rate limit (131056), wait at least one pair-rate interval."""
LATER_RETRY_AFTER = 3600.0
"""After a ``LATER`` code (marketing or spam limit), wait an hour before trying again."""
SERVER_ERROR = 500
"""HTTP statuses from here up are Meta's own failures: transient."""


def retry_after(error: MetaError) -> float | None:
    if error.code == PAIR_RATE_LIMIT:
        return PAIR_RATE_RETRY_AFTER
    if error.retry is RetryClass.LATER:
        return LATER_RETRY_AFTER
    return None


def classify(code: int) -> MetaError:
    """Unknown codes are final: retrying an error we do not understand risks duplicates."""
    return META_ERRORS.get(
        code, MetaError(code, "unknown provider error", RetryClass.FINAL, "provider_error")
    )
