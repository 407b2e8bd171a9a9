"""Template lint: the format rules Meta rejects templates for, checked before submission.

Each issue has a stable ``code``, a ``severity`` (``error`` blocks submission,
``warning`` does not), the ``component`` it concerns (``name``, ``language``,
``category``, ``header``, ``body``, ``footer``, ``buttons``, ``buttons[2]``,
``carousel``, ``carousel.cards[1].body``, ``limited_time_offer`` ...) and a sentence a
marketer can act on. docs/templates-lint.md lists every code.

Besides format, lint reads the wording: a UTILITY template with promotional sentences
is what Meta re-categorises as MARKETING, so lint warns and suggests MARKETING.
"""

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any, Literal

from omniroute.policy import templates as rules
from omniroute.policy.templates import POSITIONAL_VARIABLE, TemplateCategory
from omniroute.templates.variables import is_named, tokens

Severity = Literal["error", "warning"]

PROMOTIONAL_CONTENT = "promotional_content"
AUTHENTICATION_CONTENT = "authentication_content"

_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class LintIssue:
    code: str
    severity: Severity
    component: str
    message: str


@dataclass
class LintResult:
    issues: list[LintIssue] = field(default_factory=list)
    suggested_category: str | None = None
    category_reason: str | None = None
    """The sentence that made lint suggest another category."""

    @property
    def valid(self) -> bool:
        return not any(issue.severity == "error" for issue in self.issues)

    def errors(self) -> list[LintIssue]:
        return [i for i in self.issues if i.severity == "error"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "issues": [asdict(i) for i in self.issues],
            "suggested_category": self.suggested_category,
            "category_reason": self.category_reason,
        }


def lint(template: dict[str, Any]) -> LintResult:
    """Check a template in Meta's shape (``name``, ``language``, ``category``, ``components``)."""
    linter = _Linter()
    linter.run(template)
    return linter.result


def _upper(value: Any) -> str:
    return value.upper() if isinstance(value, str) else ""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _by_type(components: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for component in components:
        grouped.setdefault(_upper(component.get("type")), []).append(component)
    return grouped


def _example(component: dict[str, Any]) -> dict[str, Any]:
    example = component.get("example")
    return example if isinstance(example, dict) else {}


def _fixed_words(text: str) -> int:
    return len(_WORD.findall(rules.VARIABLE_TOKEN.sub(" ", text)))


class _Linter:
    def __init__(self) -> None:
        self.result = LintResult()
        self.variables: list[str] = []
        """Every header and body variable in the template."""

    def error(self, code: str, component: str, message: str) -> None:
        self.result.issues.append(LintIssue(code, "error", component, message))

    def warning(self, code: str, component: str, message: str) -> None:
        self.result.issues.append(LintIssue(code, "warning", component, message))

    def run(self, template: dict[str, Any]) -> None:
        self.identity(template)
        declared = _upper(template.get("parameter_format"))
        category = _upper(template.get("category"))
        raw = template.get("components")
        components = _dicts(raw)
        if not isinstance(raw, list) or not components or len(components) != len(raw):
            self.error(
                "components_invalid",
                "components",
                "Give `components` as a list of objects, each with a `type` (HEADER, BODY, FOOTER, BUTTONS ...).",
            )
        by_type = _by_type(components)
        for kind, found in by_type.items():
            if kind not in rules.COMPONENT_TYPES:
                self.error(
                    "component_unsupported",
                    kind.lower() or "components",
                    f"'{kind or '(no type)'}' is not a template component type; use one of "
                    f"{', '.join(sorted(rules.COMPONENT_TYPES))}.",
                )
            elif len(found) > 1:
                self.error(
                    "component_repeated", kind.lower(), f"A template has at most one {kind} component."
                )
        if category != TemplateCategory.MARKETING:
            for where, feature in _marketing_only_features(by_type):
                self.error(
                    "component_requires_marketing",
                    where,
                    f"WhatsApp allows {feature} only in MARKETING templates: change the category to MARKETING.",
                )
        if "message_send_ttl_seconds" in template:
            self.time_to_live(category, template["message_send_ttl_seconds"])
        if category == TemplateCategory.AUTHENTICATION:
            self.authentication(by_type)
            return
        self.content(by_type)
        self.parameter_format(declared)
        if category == TemplateCategory.UTILITY:
            self.scan_wording(components, rules.PROMOTIONAL_CONTENT, TemplateCategory.MARKETING)
        if (
            category in (TemplateCategory.UTILITY, TemplateCategory.MARKETING)
            and not self.result.suggested_category
        ):
            self.scan_wording(components, rules.AUTHENTICATION_CONTENT, TemplateCategory.AUTHENTICATION)

    def identity(self, template: dict[str, Any]) -> None:
        name = _text(template.get("name"))
        if not rules.NAME_PATTERN.match(name):
            self.error(
                "name_invalid",
                "name",
                "Template names may use only lowercase letters, digits and underscores.",
            )
        if len(name) > rules.NAME_MAX_LENGTH:
            self.error(
                "name_too_long", "name", f"Template names are at most {rules.NAME_MAX_LENGTH} characters."
            )
        if _text(template.get("language")) not in rules.LANGUAGES:
            self.error(
                "language_unsupported",
                "language",
                f"'{template.get('language')}' is not a WhatsApp template language code (e.g. en, en_US, pt_BR).",
            )
        if _upper(template.get("category")) not in set(TemplateCategory):
            self.error(
                "category_invalid",
                "category",
                "The category must be MARKETING, UTILITY or AUTHENTICATION.",
            )

    def time_to_live(self, category: str, ttl: Any) -> None:
        problem = rules.message_send_ttl_problem(category, ttl)
        if problem is not None:
            self.error("message_send_ttl_invalid", "message_send_ttl_seconds", problem)

    # MARKETING and UTILITY templates.

    def content(self, by_type: dict[str, list[dict[str, Any]]]) -> None:
        offer = bool(by_type.get("LIMITED_TIME_OFFER"))
        carousel = by_type.get("CAROUSEL", [])
        bodies = by_type.get("BODY", [])
        if not bodies:
            self.error("body_missing", "body", "Every template needs a BODY component with the message text.")
        else:
            max_length = rules.LTO_BODY_MAX_LENGTH if offer else rules.BODY_MAX_LENGTH
            self.body(bodies[0], "body", max_length)
        for header in by_type.get("HEADER", [])[:1]:
            self.header(header, "header", rules.LTO_HEADER_FORMATS if offer else rules.HEADER_FORMATS)
        for footer in by_type.get("FOOTER", [])[:1]:
            self.footer(footer, offer)
        buttons = by_type.get("BUTTONS", [])[:1]
        kinds: list[str] = []
        for component in buttons:
            kinds = self.buttons(component, "buttons", rules.BUTTON_TYPES, rules.BUTTONS_MAX)
        self.commerce(by_type.get("HEADER", [])[:1], kinds)
        if carousel:
            self.carousel(carousel[0], by_type)
        if offer:
            self.limited_time_offer(by_type["LIMITED_TIME_OFFER"][0], buttons)
        if any(map(is_named, self.variables)) and any(map(POSITIONAL_VARIABLE.match, self.variables)):
            self.error(
                "variables_mixed",
                "body",
                "Use either numbered variables ({{1}}, {{2}}) or named ones ({{first_name}}) in the whole "
                "template, not both.",
            )

    def parameter_format(self, declared: str) -> None:
        """``parameter_format``, when given, must match the variables the template uses."""
        if not declared:
            return
        if declared not in ("POSITIONAL", "NAMED"):
            self.error(
                "parameter_format_invalid", "parameter_format", "parameter_format is POSITIONAL or NAMED."
            )
            return
        numbered = any(POSITIONAL_VARIABLE.match(name) for name in self.variables)
        named = any(map(is_named, self.variables))
        if (declared == "NAMED" and numbered) or (declared == "POSITIONAL" and named):
            self.error(
                "parameter_format_mismatch",
                "parameter_format",
                f"parameter_format is {declared} but the template uses "
                f"{'numbered' if numbered else 'named'} variables: make them agree.",
            )

    def variables_of(self, component: dict[str, Any], where: str, kind: str, text: str) -> list[str]:
        """Check a text's variable names, numbering and examples; return the names in order."""
        names = tokens(text)
        self.variables.extend(names)
        for name in dict.fromkeys(names):
            if not (POSITIONAL_VARIABLE.match(name) or is_named(name)):
                self.error(
                    "variable_invalid",
                    where,
                    f"'{{{{{name}}}}}' is not a valid variable: use {{{{1}}}}, {{{{2}}}} or lowercase names "
                    "like {{first_name}}, with no spaces, #, $, % or other symbols inside the braces.",
                )
        positions = sorted({int(n) for n in names if POSITIONAL_VARIABLE.match(n)})
        if positions and positions != list(range(1, len(positions) + 1)):
            self.error(
                "variables_not_sequential",
                where,
                "Numbered variables must run {{1}}, {{2}}, {{3}}... without gaps.",
            )
        if names and not self.has_examples(component, kind, names):
            self.error(
                "example_missing",
                where,
                f"Give an example value for every {kind} variable (example.{kind}_text, or "
                f"example.{kind}_text_named_params for named variables); Meta rejects templates without them.",
            )
        return names

    @staticmethod
    def has_examples(component: dict[str, Any], kind: str, names: list[str]) -> bool:
        example = _example(component)
        named = example.get(f"{kind}_text_named_params")
        if isinstance(named, list):
            given = {p.get("param_name"): p.get("example") for p in named if isinstance(p, dict)}
            return all(_text(given.get(name)).strip() for name in names)
        values = example.get(f"{kind}_text")
        if kind == "body" and isinstance(values, list) and values and isinstance(values[0], list):
            values = values[0]
        needed = len(set(names))
        return (
            isinstance(values, list)
            and len(values) >= needed
            and all(isinstance(v, str | int | float) and str(v).strip() for v in values)
        )

    def body(self, body: dict[str, Any], where: str, max_length: int) -> None:
        text = _text(body.get("text"))
        if not text.strip():
            self.error("body_empty", where, "The body text is empty.")
        if len(text) > max_length:
            self.error("body_too_long", where, f"The body is at most {max_length} characters here.")
        names = self.variables_of(body, where, "body", text)
        found = list(rules.VARIABLE_TOKEN.finditer(text))
        if found and not (text[: found[0].start()].strip() and text[found[-1].end() :].strip()):
            self.error(
                "variable_at_edge",
                where,
                "The body cannot start or end with a variable: put fixed text before the first and after the last.",
            )
        if any(not text[a.end() : b.start()].strip() for a, b in pairwise(found)):
            self.error(
                "variables_adjacent",
                where,
                "Two variables cannot sit next to each other ({{1}} {{2}}): put fixed text between them.",
            )
        fixed_words = _fixed_words(text)
        if names and fixed_words < rules.MIN_FIXED_WORDS_PER_VARIABLE * len(names):
            self.warning(
                "variable_density",
                where,
                f"The body has {len(names)} variable(s) for {fixed_words} words of fixed text; Meta often "
                f"rejects templates with too many variables for their length. Aim for at least "
                f"{rules.MIN_FIXED_WORDS_PER_VARIABLE} words of fixed text per variable.",
            )

    def header(self, header: dict[str, Any], where: str, formats: frozenset[str]) -> None:
        header_format = _upper(header.get("format", "TEXT"))
        if header_format not in formats:
            self.error(
                "header_format_unsupported",
                where,
                f"The header format must be one of {', '.join(sorted(formats))} here.",
            )
            return
        if header_format in rules.MEDIA_HEADER_FORMATS:
            handles = _example(header).get("header_handle")
            if not (isinstance(handles, list) and handles and all(_text(h).strip() for h in handles)):
                self.error(
                    "example_missing",
                    where,
                    f"The {header_format} header needs a sample file: upload one and give its handle in "
                    "example.header_handle.",
                )
            return
        if header_format != "TEXT":
            return
        text = _text(header.get("text"))
        if not text.strip():
            self.error("header_empty", where, "A text header needs text.")
        if len(text) > rules.HEADER_TEXT_MAX_LENGTH:
            self.error(
                "header_too_long", where, f"The header is at most {rules.HEADER_TEXT_MAX_LENGTH} characters."
            )
        if "\n" in text or "\r" in text:
            self.error("header_newline", where, "A text header is a single line: remove the line break.")
        if rules.EMOJI.search(text):
            self.error("header_emoji", where, "A text header cannot contain emoji: move them to the body.")
        fixed = rules.VARIABLE_TOKEN.sub("", text)
        if rules.HEADER_FORMATTING_CHARACTERS & set(fixed):
            self.error(
                "header_formatting",
                where,
                "A text header cannot use *bold*, _italic_ or ~strikethrough~ formatting characters.",
            )
        names = self.variables_of(header, where, "header", text)
        if len(names) > rules.HEADER_MAX_VARIABLES:
            self.error(
                "header_too_many_variables",
                where,
                f"A header may contain at most {rules.HEADER_MAX_VARIABLES} variable.",
            )

    def footer(self, footer: dict[str, Any], offer: bool) -> None:
        if offer:
            self.error(
                "footer_not_allowed",
                "footer",
                "Limited-time offer templates cannot have a footer: remove it.",
            )
        text = _text(footer.get("text"))
        if len(text) > rules.FOOTER_MAX_LENGTH:
            self.error(
                "footer_too_long", "footer", f"The footer is at most {rules.FOOTER_MAX_LENGTH} characters."
            )
        if tokens(text):
            self.error("footer_has_variables", "footer", "The footer cannot contain variables.")

    def buttons(self, component: dict[str, Any], where: str, allowed: frozenset[str], most: int) -> list[str]:
        """Check a BUTTONS component; return the button kinds in order."""
        buttons = _dicts(component.get("buttons"))
        if not buttons:
            self.error(
                "buttons_empty", where, "A BUTTONS component needs a list of buttons: add one or remove it."
            )
            return []
        if len(buttons) > most:
            self.error("buttons_too_many", where, f"Use at most {most} buttons here.")
        kinds = [_upper(b.get("type")) for b in buttons]
        for index, (kind, button) in enumerate(zip(kinds, buttons, strict=True)):
            self.button(kind, button, f"{where}[{index}]", allowed)
        for kind, most_of_kind, label in (
            ("URL", rules.URL_BUTTONS_MAX, "website (URL)"),
            ("PHONE_NUMBER", rules.PHONE_BUTTONS_MAX, "phone number"),
            ("COPY_CODE", rules.COPY_CODE_BUTTONS_MAX, "copy-code"),
            ("CATALOG", rules.PRODUCT_BUTTONS_MAX, "catalog"),
            ("MPM", rules.PRODUCT_BUTTONS_MAX, "multi-product (MPM)"),
            ("SPM", rules.PRODUCT_BUTTONS_MAX, "single-product (SPM)"),
        ):
            if kinds.count(kind) > most_of_kind:
                self.error(
                    f"buttons_too_many_{kind.lower()}",
                    where,
                    f"Use at most {most_of_kind} {label} button(s).",
                )
        replies = [i for i, kind in enumerate(kinds) if kind == "QUICK_REPLY"]
        if replies and replies != list(range(replies[0], replies[-1] + 1)):
            self.error(
                "quick_replies_not_grouped",
                where,
                "Put all quick-reply buttons next to each other, before or after the other buttons.",
            )
        return kinds

    def button(self, kind: str, button: dict[str, Any], where: str, allowed: frozenset[str]) -> None:
        if kind not in allowed:
            self.error(
                "button_type_unsupported",
                where,
                f"'{kind or '(no type)'}' buttons are not allowed here; use {', '.join(sorted(allowed))}.",
            )
            return
        label = _text(button.get("text"))
        if kind in rules.LABELLED_BUTTON_TYPES and not label.strip():
            self.error("button_label_missing", where, "Give the button a label (`text`).")
        if len(label) > rules.BUTTON_LABEL_MAX_LENGTH:
            self.error(
                "button_label_too_long",
                where,
                f"Button labels are at most {rules.BUTTON_LABEL_MAX_LENGTH} characters.",
            )
        if kind == "URL":
            self.url_button(button, where)
        elif kind == "PHONE_NUMBER" and not _text(button.get("phone_number")).strip():
            self.error("button_phone_missing", where, "Give the phone-number button a `phone_number`.")
        elif kind == "COPY_CODE":
            code = button.get("example")
            if not _text(code).strip():
                self.error("example_missing", where, "Give the copy-code button a sample code in `example`.")
            elif len(_text(code)) > rules.COPY_CODE_EXAMPLE_MAX_LENGTH:
                self.error(
                    "copy_code_too_long",
                    where,
                    f"Offer codes are at most {rules.COPY_CODE_EXAMPLE_MAX_LENGTH} characters.",
                )

    def commerce(self, headers: list[dict[str, Any]], kinds: list[str]) -> None:
        """Catalog, multi-product and single-product templates: the header each button needs."""
        header_format = _upper(headers[0].get("format", "TEXT")) if headers else ""
        if (header_format == rules.PRODUCT_HEADER_FORMAT) != ("SPM" in kinds):
            self.error(
                "product_header_spm_mismatch",
                "header" if headers else "buttons",
                "A single-product template pairs a PRODUCT header with one SPM (View) button: add the "
                "missing one, or remove the other.",
            )
        if "MPM" in kinds and header_format != "TEXT":
            self.error(
                "mpm_header_missing",
                "header",
                "A multi-product (MPM) template needs a TEXT header above the product list.",
            )
        if "CATALOG" in kinds and headers:
            self.error(
                "catalog_header_not_allowed",
                "header",
                "A catalog template shows a product thumbnail as its header: remove the HEADER.",
            )

    def url_button(self, button: dict[str, Any], where: str) -> None:
        url = _text(button.get("url")).strip()
        if not url.lower().startswith(("https://", "http://")):
            self.error(
                "button_url_invalid", where, "Give the URL button a web address starting with https://."
            )
            return
        found = list(rules.VARIABLE_TOKEN.finditer(url))
        if not found:
            return
        if len(found) > rules.URL_MAX_VARIABLES or found[0].group(1) != "1" or found[0].end() != len(url):
            self.error(
                "button_url_variable",
                where,
                "A URL button may have one variable, {{1}}, and only at the very end of the address "
                "(https://example.com/track/{{1}}).",
            )
        examples = button.get("example")
        if not (isinstance(examples, list) and examples and _text(examples[0]).strip()):
            self.error(
                "example_missing",
                where,
                "Give a full sample address for the URL button's variable in `example`.",
            )

    def carousel(self, carousel: dict[str, Any], by_type: dict[str, list[dict[str, Any]]]) -> None:
        for kind in ("HEADER", "FOOTER", "BUTTONS"):
            if kind in by_type:
                self.error(
                    "carousel_component_not_allowed",
                    kind.lower(),
                    f"A carousel template has a message BODY and the CAROUSEL only: move the {kind} into the cards.",
                )
        cards = _dicts(carousel.get("cards"))
        low, high = rules.CAROUSEL_CARDS
        if not low <= len(cards) <= high:
            self.error("carousel_card_count", "carousel", f"A carousel has {low} to {high} cards.")
        shapes = [self.card(card, f"carousel.cards[{index}]") for index, card in enumerate(cards)]
        if any(shape != shapes[0] for shape in shapes[1:]):
            self.error(
                "carousel_cards_inconsistent",
                "carousel",
                "Every card needs the same components: the same header format, a body on all cards or on "
                "none, and the same buttons in the same order.",
            )

    def card(self, card: dict[str, Any], where: str) -> tuple[str, bool, tuple[str, ...]]:
        """Check one carousel card; return its shape (header format, has a body, button kinds)."""
        by_type = _by_type(_dicts(card.get("components")))
        for kind in by_type.keys() - {"HEADER", "BODY", "BUTTONS"}:
            self.error(
                "component_unsupported",
                f"{where}.{kind.lower()}",
                "A carousel card holds only a HEADER, a BODY and BUTTONS.",
            )
        headers = by_type.get("HEADER", [])
        header_format = _upper(headers[0].get("format")) if headers else ""
        if headers:
            self.header(headers[0], f"{where}.header", rules.CAROUSEL_CARD_HEADER_FORMATS)
        else:
            self.error(
                "carousel_card_header",
                where,
                "Every carousel card needs an IMAGE or VIDEO header (a PRODUCT header for product cards).",
            )
        product = header_format == rules.PRODUCT_HEADER_FORMAT
        bodies = by_type.get("BODY", [])
        if bodies and not product:
            self.body(bodies[0], f"{where}.body", rules.CAROUSEL_CARD_BODY_MAX_LENGTH)
        allowed = rules.CAROUSEL_CARD_BUTTON_TYPES | (rules.PRODUCT_CARD_BUTTON_TYPES if product else set())
        kinds: list[str] = []
        for buttons in by_type.get("BUTTONS", [])[:1]:
            kinds = self.buttons(buttons, f"{where}.buttons", allowed, rules.CAROUSEL_CARD_BUTTONS_MAX)
        if product:
            self.product_card(where, bool(bodies), kinds)
        return header_format, bool(bodies), tuple(kinds)

    def product_card(self, where: str, has_body: bool, kinds: list[str]) -> None:
        if has_body:
            self.error(
                "product_card_invalid",
                f"{where}.body",
                "A product card takes its title and price from your catalog: remove the card body.",
            )
        if len(kinds) != rules.PRODUCT_CARD_BUTTONS or kinds[0] not in rules.PRODUCT_CARD_BUTTON_TYPES:
            self.error(
                "product_card_invalid",
                f"{where}.buttons",
                "A product card has a single button: SPM (View, opens the product) or URL.",
            )

    def limited_time_offer(self, component: dict[str, Any], buttons: list[dict[str, Any]]) -> None:
        offer = component.get("limited_time_offer")
        offer = offer if isinstance(offer, dict) else {}
        text = _text(offer.get("text"))
        if not text.strip():
            self.error(
                "offer_text_missing",
                "limited_time_offer",
                "Give the offer a short headline in limited_time_offer.text (e.g. 'Expiring offer!').",
            )
        elif len(text) > rules.LTO_TEXT_MAX_LENGTH:
            self.error(
                "offer_text_too_long",
                "limited_time_offer",
                f"The offer headline is at most {rules.LTO_TEXT_MAX_LENGTH} characters.",
            )
        expires = offer.get("has_expiration", False)
        if not isinstance(expires, bool):
            self.error(
                "offer_expiration_invalid",
                "limited_time_offer",
                "limited_time_offer.has_expiration is true or false.",
            )
        order = [_upper(b.get("type")) for c in buttons for b in _dicts(c.get("buttons"))]
        kinds = set(order)
        if "COPY_CODE" in kinds and order[0] != "COPY_CODE":
            self.error(
                "offer_copy_code_not_first",
                "buttons",
                "In a limited-time offer the copy-code button comes first: move it before the other buttons.",
            )
        if "URL" not in kinds:
            self.error(
                "offer_url_button_missing",
                "buttons",
                "A limited-time offer needs a URL button that takes the customer to the offer.",
            )
        if expires is True and "COPY_CODE" not in kinds:
            self.error(
                "offer_copy_code_missing",
                "buttons",
                "An offer that expires needs a copy-code button with the offer code.",
            )

    def scan_wording(
        self, components: list[dict[str, Any]], signals: rules.ContentSignals, category: TemplateCategory
    ) -> None:
        """Sentence-level scan of every text a customer reads: each sentence is matched
        against the phrase list and the patterns of ``policy/template_content.json``; each
        matching sentence is a warning, the first one becomes ``category_reason``."""
        code = PROMOTIONAL_CONTENT if category == TemplateCategory.MARKETING else AUTHENTICATION_CONTENT
        kind = "promotional" if category == TemplateCategory.MARKETING else "one-time-code"
        for where, text in _customer_texts(components):
            for sentence in _SENTENCE_BREAK.split(text.replace("\u2019", "'")):
                trigger = signals.first_match(sentence)
                if trigger is None:
                    continue
                quoted = sentence.strip()
                self.warning(
                    code,
                    where,
                    f'"{quoted}" reads as {kind} content ("{trigger}"): Meta would treat this template as '
                    f"{category.value}. Submit it as {category.value}, or reword the sentence.",
                )
                if self.result.suggested_category is None:
                    self.result.suggested_category = category.value
                    self.result.category_reason = quoted

    # AUTHENTICATION templates.

    def authentication(self, by_type: dict[str, list[dict[str, Any]]]) -> None:
        if "HEADER" in by_type:
            self.error(
                "auth_header_not_allowed",
                "header",
                "Authentication templates have no header: remove it.",
            )
        bodies = by_type.get("BODY", [])
        if not bodies:
            self.error(
                "body_missing",
                "body",
                'Authentication templates need a BODY component (WhatsApp writes "<code> is your verification '
                'code."; add_security_recommendation adds the security advice).',
            )
        for body in bodies[:1]:
            if "text" in body:
                self.error(
                    "auth_free_text",
                    "body",
                    'Authentication templates cannot have their own text: WhatsApp writes "<code> is your '
                    'verification code." Remove `text`; set add_security_recommendation to add its advice.',
                )
            if not isinstance(body.get("add_security_recommendation", False), bool):
                self.error(
                    "auth_security_recommendation_invalid",
                    "body",
                    "add_security_recommendation is true or false.",
                )
        for footer in by_type.get("FOOTER", [])[:1]:
            self.authentication_footer(footer)
        buttons = [b for c in by_type.get("BUTTONS", [])[:1] for b in _dicts(c.get("buttons"))]
        if len(buttons) != 1 or _upper(buttons[0].get("type")) != "OTP":
            self.error(
                "auth_otp_button",
                "buttons",
                "Authentication templates need exactly one OTP button (otp_type COPY_CODE, ONE_TAP or ZERO_TAP).",
            )
            return
        self.otp_button(buttons[0], "buttons[0]")

    def authentication_footer(self, footer: dict[str, Any]) -> None:
        if "text" in footer:
            self.error(
                "auth_free_text",
                "footer",
                "Authentication footers have no text: set code_expiration_minutes and WhatsApp writes the "
                "expiry sentence.",
            )
        low, high = rules.AUTH_CODE_EXPIRATION_MINUTES
        minutes = footer.get("code_expiration_minutes")
        if minutes is not None and not (
            isinstance(minutes, int) and not isinstance(minutes, bool) and low <= minutes <= high
        ):
            self.error(
                "auth_code_expiration_invalid",
                "footer",
                f"code_expiration_minutes is a whole number of minutes from {low} to {high}.",
            )

    def otp_button(self, button: dict[str, Any], where: str) -> None:
        otp_type = _upper(button.get("otp_type"))
        if otp_type not in rules.OTP_TYPES:
            self.error(
                "auth_otp_type_invalid",
                where,
                "otp_type must be COPY_CODE, ONE_TAP or ZERO_TAP.",
            )
            return
        for key in ("text", "autofill_text"):
            if len(_text(button.get(key))) > rules.BUTTON_LABEL_MAX_LENGTH:
                self.error(
                    "button_label_too_long",
                    where,
                    f"Button labels ({key}) are at most {rules.BUTTON_LABEL_MAX_LENGTH} characters.",
                )
        if otp_type not in rules.OTP_APP_TYPES:
            return
        apps = _dicts(button.get("supported_apps")) or (
            [{"package_name": button["package_name"], "signature_hash": button.get("signature_hash")}]
            if "package_name" in button
            else []
        )
        if not apps:
            self.error(
                "auth_supported_apps_missing",
                where,
                f"{otp_type} buttons need your Android app: supported_apps with package_name and signature_hash.",
            )
        if len(apps) > rules.SUPPORTED_APPS_MAX:
            self.error(
                "auth_supported_apps_too_many",
                where,
                f"List at most {rules.SUPPORTED_APPS_MAX} apps in supported_apps.",
            )
        for app in apps:
            package = _text(app.get("package_name"))
            if not (
                rules.ANDROID_PACKAGE_NAME.match(package)
                and len(package) <= rules.ANDROID_PACKAGE_NAME_MAX_LENGTH
            ) or not rules.SIGNATURE_HASH.match(_text(app.get("signature_hash"))):
                self.error(
                    "auth_app_invalid",
                    where,
                    f"'{package}' needs an Android package name (com.example.app) and its 11-character app "
                    "signature hash.",
                )
        if otp_type == "ZERO_TAP" and button.get("zero_tap_terms_accepted") is not True:
            self.error(
                "auth_zero_tap_terms",
                where,
                "Zero-tap buttons need zero_tap_terms_accepted: true (you accept WhatsApp's zero-tap terms).",
            )


def _marketing_only_features(by_type: dict[str, list[dict[str, Any]]]) -> list[tuple[str, str]]:
    """What only a MARKETING template may hold, by component: limited-time offers, catalog,
    multi- and single-product buttons, PRODUCT headers (also on carousel cards)."""
    found = [(kind.lower(), kind) for kind in sorted(rules.MARKETING_ONLY_COMPONENTS & by_type.keys())]
    headers = by_type.get("HEADER", [])
    for card in (c for carousel in by_type.get("CAROUSEL", []) for c in _dicts(carousel.get("cards"))):
        headers = headers + _by_type(_dicts(card.get("components"))).get("HEADER", [])
    if any(_upper(h.get("format")) in rules.MARKETING_ONLY_HEADER_FORMATS for h in headers):
        found.append(("header", "PRODUCT headers"))
    buttons = {_upper(b.get("type")) for c in by_type.get("BUTTONS", []) for b in _dicts(c.get("buttons"))}
    for kind in sorted(rules.MARKETING_ONLY_BUTTONS & buttons):
        found.append(("buttons", f"{kind} buttons"))
    return found


def _customer_texts(components: list[dict[str, Any]], where: str = "") -> Iterator[tuple[str, str]]:
    """Every text a customer reads, with its component: headers, bodies, footers, button
    labels, carousel cards."""
    for component in components:
        kind = _upper(component.get("type"))
        if kind in ("HEADER", "BODY", "FOOTER"):
            yield f"{where}{kind.lower()}", _text(component.get("text"))
        elif kind == "BUTTONS":
            for index, button in enumerate(_dicts(component.get("buttons"))):
                yield f"{where}buttons[{index}]", _text(button.get("text"))
        elif kind == "CAROUSEL":
            for index, card in enumerate(_dicts(component.get("cards"))):
                yield from _customer_texts(_dicts(card.get("components")), f"carousel.cards[{index}].")
