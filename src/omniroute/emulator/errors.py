"""Graph API errors in Meta's exact shape::

{"error": {"message": "(#131047) Re-engagement message", "type": "OAuthException",
           "code": 131047, "error_data": {"messaging_product": "whatsapp", "details": "..."},
           "fbtrace_id": "..."}}
"""

import secrets
import string
from dataclasses import dataclass
from typing import Any

from omniroute.policy import errors as meta_errors

_TRACE_ALPHABET = string.ascii_letters + string.digits + "-_"

# Meta's titles (the text after "(#code)") and HTTP statuses per its error-code page;
# throttling errors answer 429.
TITLES: dict[int, tuple[str, int]] = {
    100: ("Invalid parameter", 400),
    190: ("Invalid OAuth access token - Cannot parse access token", 401),
    meta_errors.THROUGHPUT_LIMIT: ("Rate limit hit", 429),
    meta_errors.PAIR_RATE_LIMIT: ("(Business Account, Consumer Account) pair rate limit hit", 429),
    meta_errors.RE_ENGAGEMENT: ("Re-engagement message", 400),
    meta_errors.UNDELIVERABLE: ("Message undeliverable", 400),
    meta_errors.TEMPLATE_PARAM_COUNT: (
        "Number of parameters does not match the expected number of params",
        400,
    ),
    meta_errors.TEMPLATE_MISSING: ("Template name does not exist in the translation", 404),
    meta_errors.TEMPLATE_PARAM_FORMAT: ("There was an issue with the parameters in your template", 400),
    meta_errors.TEMPLATE_PAUSED: ("Template is paused", 400),
    meta_errors.TEMPLATE_DISABLED: ("Template has been disabled", 400),
}

UNKNOWN_PATH = 2500
UNKNOWN_OBJECT_SUBCODE = 33
DUPLICATE_TEMPLATE_SUBCODE = 2388024


def fbtrace_id() -> str:
    return "A" + "".join(secrets.choice(_TRACE_ALPHABET) for _ in range(22))


def title(code: int) -> str:
    return TITLES[code][0]


@dataclass
class GraphError(Exception):
    """A Graph API error response. ``details`` goes to ``error_data.details``."""

    code: int
    details: str | None = None
    subcode: int | None = None
    message: str | None = None

    @property
    def http_status(self) -> int:
        return TITLES.get(self.code, ("", 400))[1]

    def body(self) -> dict[str, Any]:
        if self.message is not None:
            message = self.message
        elif self.code == 190:
            message = title(190)
        else:
            message = f"(#{self.code}) {TITLES.get(self.code, ('Unknown error', 400))[0]}"
        error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": self.code}
        if self.details is not None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = fbtrace_id()
        return {"error": error}


def invalid(details: str) -> GraphError:
    """Error 100 naming what is wrong with the request."""
    return GraphError(100, details)


def unknown_object(method: str, object_id: str) -> GraphError:
    return GraphError(
        100,
        subcode=UNKNOWN_OBJECT_SUBCODE,
        message=(
            f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, "
            "cannot be loaded due to missing permissions, or does not support this operation."
        ),
    )


def unknown_path_error(path: str) -> GraphError:
    return GraphError(UNKNOWN_PATH, message=f"Unknown path components: /{path}")
