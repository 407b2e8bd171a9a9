"""Template categories, lifecycle statuses and format limits (policy page section 2)."""

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from importlib import resources


class TemplateCategory(StrEnum):
    MARKETING = "MARKETING"
    UTILITY = "UTILITY"
    AUTHENTICATION = "AUTHENTICATION"


class TemplateStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    PAUSED = "PAUSED"
    DISABLED = "DISABLED"
    IN_APPEAL = "IN_APPEAL"
    PENDING_DELETION = "PENDING_DELETION"
    DELETED = "DELETED"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"


class RejectionReason(StrEnum):
    ABUSIVE_CONTENT = "ABUSIVE_CONTENT"
    CATEGORY_NOT_AVAILABLE = "CATEGORY_NOT_AVAILABLE"
    INCORRECT_CATEGORY = "INCORRECT_CATEGORY"
    INVALID_FORMAT = "INVALID_FORMAT"
    PROMOTIONAL = "PROMOTIONAL"
    SCAM = "SCAM"
    TAG_CONTENT_MISMATCH = "TAG_CONTENT_MISMATCH"
    NONE = "NONE"


SENDABLE_STATUSES = frozenset({TemplateStatus.APPROVED})

NAME_PATTERN = re.compile(r"^[a-z0-9_]+$")
NAME_MAX_LENGTH = 512
HEADER_TEXT_MAX_LENGTH = 60
HEADER_MAX_VARIABLES = 1
BODY_MAX_LENGTH = 1024
FOOTER_MAX_LENGTH = 60
HYDRATED_BODY_MAX_LENGTH = 1024
BUTTONS_MAX = 10
URL_BUTTONS_MAX = 2
PHONE_BUTTONS_MAX = 1
COPY_CODE_BUTTONS_MAX = 1
BUTTON_LABEL_MAX_LENGTH = 25
AUTH_CODE_MAX_LENGTH = 15
AUTH_CODE_EXPIRATION_MINUTES = (1, 90)

POSITIONAL_VARIABLE = re.compile(r"^[1-9][0-9]*$")
NAMED_VARIABLE = re.compile(r"^[a-z][a-z0-9_]*$")
VARIABLE_TOKEN = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")

PARAMETER_MAX_CONSECUTIVE_SPACES = 4
PARAMETER_TEXT_FORBIDDEN = re.compile(rf"[\r\n\t]| {{{PARAMETER_MAX_CONSECUTIVE_SPACES + 1},}}")
"""What Meta refuses in a text parameter of a template send (error 132018): a newline, a tab,
or more than 4 consecutive spaces."""

MIN_FIXED_WORDS_PER_VARIABLE = 3
"""Variable density: Meta publishes no ratio; providers advise about 3 words of fixed text
per variable. Below it lint warns (Meta often rejects "too many variables for the length")."""

COMPONENT_TYPES = frozenset({"HEADER", "BODY", "FOOTER", "BUTTONS", "CAROUSEL", "LIMITED_TIME_OFFER"})
HEADER_FORMATS = frozenset({"TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION", "PRODUCT"})
MEDIA_HEADER_FORMATS = frozenset({"IMAGE", "VIDEO", "DOCUMENT"})
HEADER_FORMATTING_CHARACTERS = frozenset("*_~")
EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\ufe0f\u200d\U000e0020-\U000e007f]"
)

BUTTON_TYPES = frozenset(
    {"QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "FLOW", "CATALOG", "MPM", "SPM", "VOICE_CALL"}
)
"""Button kinds a MARKETING or UTILITY template may carry (OTP buttons are AUTHENTICATION only)."""
LABELLED_BUTTON_TYPES = frozenset(
    {"QUICK_REPLY", "URL", "PHONE_NUMBER", "FLOW", "VOICE_CALL", "CATALOG", "MPM", "SPM"}
)
URL_MAX_VARIABLES = 1
COPY_CODE_EXAMPLE_MAX_LENGTH = 15

# AUTHENTICATION templates: Meta's fixed shape.
OTP_TYPES = frozenset({"COPY_CODE", "ONE_TAP", "ZERO_TAP"})
OTP_APP_TYPES = frozenset({"ONE_TAP", "ZERO_TAP"})
SUPPORTED_APPS_MAX = 5
ANDROID_PACKAGE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$")
ANDROID_PACKAGE_NAME_MAX_LENGTH = 224
SIGNATURE_HASH = re.compile(r"^[A-Za-z0-9+/=]{11}$")

# CAROUSEL (media card carousel): 2-10 cards of the same shape. Meta's current page calls
# carousels marketing-only while its earlier page and providers accept UTILITY too, so
# lint accepts both (a promotional UTILITY carousel is flagged by the wording scan).
CAROUSEL_CARDS = (2, 10)
CAROUSEL_CARD_HEADER_FORMATS = frozenset({"IMAGE", "VIDEO", "PRODUCT"})
"""Media cards (IMAGE, VIDEO) or product cards (PRODUCT, below)."""
CAROUSEL_CARD_BODY_MAX_LENGTH = 160
CAROUSEL_CARD_BUTTONS_MAX = 2
CAROUSEL_CARD_BUTTON_TYPES = frozenset({"QUICK_REPLY", "URL", "PHONE_NUMBER"})

# Commerce templates (a catalog connected to the WhatsApp Business Account), all MARKETING:
# catalog (body, footer, a CATALOG "View catalog" button; WhatsApp shows a product thumbnail
# as the header), multi-product (a TEXT header, body, footer, an MPM "View items" button),
# single-product (a PRODUCT header, body, footer, an SPM "View" button) and product card
# carousels (each card a PRODUCT header and one SPM or URL button; the catalog supplies the
# product's image, title and price, so a card has no body).
PRODUCT_HEADER_FORMAT = "PRODUCT"
PRODUCT_BUTTON_TYPES = frozenset({"CATALOG", "MPM", "SPM"})
PRODUCT_BUTTONS_MAX = 1
"""At most one button of each commerce kind."""
PRODUCT_CARD_BUTTON_TYPES = frozenset({"SPM", "URL"})
PRODUCT_CARD_BUTTONS = 1

# LIMITED_TIME_OFFER: MARKETING only, no footer, image or video header.
LTO_TEXT_MAX_LENGTH = 16
LTO_BODY_MAX_LENGTH = 600
LTO_HEADER_FORMATS = frozenset({"IMAGE", "VIDEO"})

MARKETING_ONLY_COMPONENTS = frozenset({"LIMITED_TIME_OFFER"})
MARKETING_ONLY_BUTTONS = PRODUCT_BUTTON_TYPES
MARKETING_ONLY_HEADER_FORMATS = frozenset({PRODUCT_HEADER_FORMAT})

# Time-to-live (``message_send_ttl_seconds``): how long Meta retries delivering a template
# message. Customisable per category, in whole seconds; -1 means 30 days for authentication
# and utility templates. Marketing TTL applies through the Marketing Messages API.
MESSAGE_SEND_TTL_SECONDS = {
    TemplateCategory.AUTHENTICATION: (30, 900),
    TemplateCategory.UTILITY: (30, 43_200),
    TemplateCategory.MARKETING: (43_200, 2_592_000),
}
MESSAGE_SEND_TTL_THIRTY_DAYS = -1
MESSAGE_SEND_TTL_THIRTY_DAYS_CATEGORIES = frozenset(
    {TemplateCategory.AUTHENTICATION, TemplateCategory.UTILITY}
)


def message_send_ttl_problem(category: str, ttl: object) -> str | None:
    """Why ``ttl`` is not a valid ``message_send_ttl_seconds`` for ``category``, or None."""
    if category not in MESSAGE_SEND_TTL_SECONDS:
        return None
    low, high = MESSAGE_SEND_TTL_SECONDS[TemplateCategory(category)]
    allowed = f"a whole number of seconds from {low} to {high}"
    if category in MESSAGE_SEND_TTL_THIRTY_DAYS_CATEGORIES:
        allowed += f", or {MESSAGE_SEND_TTL_THIRTY_DAYS} for 30 days"
    if isinstance(ttl, bool) or not isinstance(ttl, int):
        return f"message_send_ttl_seconds is {allowed}."
    if low <= ttl <= high or (
        ttl == MESSAGE_SEND_TTL_THIRTY_DAYS and category in MESSAGE_SEND_TTL_THIRTY_DAYS_CATEGORIES
    ):
        return None
    return f"message_send_ttl_seconds of a {category} template is {allowed}; {ttl} is not."


@dataclass(frozen=True)
class ContentSignals:
    """Wording that betrays a template's real category: whole-word phrases and regular
    expressions, both case-insensitive, loaded from ``template_content.json``."""

    phrases: re.Pattern[str]
    patterns: tuple[re.Pattern[str], ...]

    def first_match(self, sentence: str) -> str | None:
        """The phrase or pattern match in ``sentence``, if any."""
        for pattern in (self.phrases, *self.patterns):
            found = pattern.search(sentence)
            if found:
                return found.group(0)
        return None


def _signals(raw: dict[str, list[str]]) -> ContentSignals:
    words = "|".join(re.escape(phrase) for phrase in sorted(raw["phrases"], key=len, reverse=True))
    return ContentSignals(
        phrases=re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE),
        patterns=tuple(re.compile(pattern, re.IGNORECASE) for pattern in raw["patterns"]),
    )


_CONTENT = json.loads(resources.files("omniroute.policy").joinpath("template_content.json").read_text())
PROMOTIONAL_CONTENT = _signals(_CONTENT["promotional"])
AUTHENTICATION_CONTENT = _signals(_CONTENT["authentication"])

LINT_REJECTION_REASONS = {"component_requires_marketing": RejectionReason.INCORRECT_CATEGORY}
"""Lint errors Meta rejects with a more specific reason than INVALID_FORMAT."""

QUALITY_PAUSE_DURATIONS = (timedelta(hours=3), timedelta(hours=6))
"""First pause 3 h, second 6 h; a third quality problem disables the template."""

EDITS_PER_DAY = 1
EDITS_PER_30_DAYS = 10
EDIT_LIMITS = ((timedelta(hours=24), EDITS_PER_DAY), (timedelta(days=30), EDITS_PER_30_DAYS))
"""Edits of an APPROVED template allowed per rolling period."""
EDITABLE_STATUSES = frozenset({TemplateStatus.APPROVED, TemplateStatus.REJECTED, TemplateStatus.PAUSED})

CATEGORY_CHANGE_NOTICE = timedelta(hours=24)
"""Meta announces a re-categorisation this long before it takes effect."""

REINSTATED = "REINSTATED"
"""Webhook-only: a paused or flagged template is approved again."""
LOCKED = "LOCKED"
UNLOCKED = "UNLOCKED"
"""Webhook-only: a locked template cannot be edited until it is unlocked."""
NOTICE_ONLY_EVENTS = frozenset({"FLAGGED", "ARCHIVED", LOCKED, UNLOCKED})
"""Webhook-only events that leave the status as it is; they are kept in the history."""

# WhatsApp's supported template language codes.
LANGUAGES = frozenset(
    [
        "af",
        "sq",
        "ar",
        "ar_EG",
        "ar_AE",
        "ar_LB",
        "ar_MA",
        "ar_QA",
        "az",
        "be_BY",
        "bn",
        "bn_IN",
        "bg",
        "ca",
        "zh_CN",
        "zh_HK",
        "zh_TW",
        "hr",
        "cs",
        "da",
        "prs_AF",
        "nl",
        "nl_BE",
        "en",
        "en_GB",
        "en_US",
        "en_AE",
        "en_AU",
        "en_CA",
        "en_GH",
        "en_IE",
        "en_IN",
        "en_JM",
        "en_MY",
        "en_NZ",
        "en_QA",
        "en_SG",
        "en_UG",
        "en_ZA",
        "et",
        "fil",
        "fi",
        "fr",
        "fr_BE",
        "fr_CA",
        "fr_CH",
        "fr_CI",
        "fr_MA",
        "ka",
        "de",
        "de_AT",
        "de_CH",
        "el",
        "gu",
        "ha",
        "he",
        "hi",
        "hu",
        "id",
        "ga",
        "it",
        "ja",
        "kn",
        "kk",
        "rw_RW",
        "ko",
        "ky_KG",
        "lo",
        "lv",
        "lt",
        "mk",
        "ms",
        "ml",
        "mr",
        "nb",
        "ne",
        "fa",
        "pl",
        "pt_BR",
        "pt_PT",
        "pa",
        "ro",
        "ru",
        "sr",
        "si_LK",
        "sk",
        "sl",
        "es",
        "es_AR",
        "es_CL",
        "es_CO",
        "es_CR",
        "es_DO",
        "es_EC",
        "es_HN",
        "es_MX",
        "es_PA",
        "es_PE",
        "es_ES",
        "es_UY",
        "sw",
        "sv",
        "ta",
        "te",
        "th",
        "tr",
        "uk",
        "ur",
        "uz",
        "vi",
        "zu",
    ]
)
