"""Template lint: the format rules Meta rejects templates for, checked before submission.

Each issue has a stable ``code``, a ``severity`` (``error`` blocks submission,
``warning`` does not), the ``component`` it concerns and a sentence a marketer can act on.
"""

from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any, Literal

from omniroute.policy import templates as rules
from omniroute.policy.templates import POSITIONAL_VARIABLE
from omniroute.templates.variables import is_named, tokens

Severity = Literal["error", "warning"]


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
        }


def lint(template: dict[str, Any]) -> LintResult:
    result = LintResult()

    def error(code: str, component: str, message: str) -> None:
        result.issues.append(LintIssue(code, "error", component, message))

    name = str(template.get("name", ""))
    if not rules.NAME_PATTERN.match(name):
        error(
            "name_invalid", "name", "Template names may use only lowercase letters, digits and underscores."
        )
    if len(name) > rules.NAME_MAX_LENGTH:
        error("name_too_long", "name", f"Template names are at most {rules.NAME_MAX_LENGTH} characters.")
    if template.get("language") not in rules.LANGUAGES:
        error(
            "language_unsupported",
            "language",
            f"'{template.get('language')}' is not a WhatsApp template language code (e.g. en, en_US, pt_BR).",
        )

    components: list[dict[str, Any]] = list(template.get("components") or [])
    by_type: dict[str, list[dict[str, Any]]] = {}
    for component in components:
        by_type.setdefault(str(component.get("type", "")).upper(), []).append(component)
    for kind, found in by_type.items():
        if len(found) > 1:
            error("component_repeated", kind.lower(), f"A template has at most one {kind} component.")

    bodies = by_type.get("BODY", [])
    if not bodies:
        error("body_missing", "body", "Every template needs a BODY component with the message text.")
    else:
        _lint_body(bodies[0], error)

    for header in by_type.get("HEADER", [])[:1]:
        _lint_header(header, error)
    for footer in by_type.get("FOOTER", [])[:1]:
        text = str(footer.get("text", ""))
        if len(text) > rules.FOOTER_MAX_LENGTH:
            error("footer_too_long", "footer", f"The footer is at most {rules.FOOTER_MAX_LENGTH} characters.")
        if tokens(text):
            error("footer_has_variables", "footer", "The footer cannot contain variables.")

    all_vars = [v for c in components for v in tokens(str(c.get("text", "")))]
    positional = [v for v in all_vars if POSITIONAL_VARIABLE.match(v)]
    if positional and len(positional) != len(all_vars):
        error(
            "variables_mixed",
            "body",
            "Use either numbered variables ({{1}}, {{2}}) or named ones ({{first_name}}), not both.",
        )
    return result


def _lint_body(body: dict[str, Any], error: Any) -> None:
    text = str(body.get("text", ""))
    if not text.strip():
        error("body_empty", "body", "The body text is empty.")
    if len(text) > rules.BODY_MAX_LENGTH:
        error("body_too_long", "body", f"The body is at most {rules.BODY_MAX_LENGTH} characters.")
    found = list(rules.VARIABLE_TOKEN.finditer(text))
    names = [match.group(1) for match in found]
    for name in names:
        if not (POSITIONAL_VARIABLE.match(name) or is_named(name)):
            error(
                "variable_invalid",
                "body",
                f"'{{{{{name}}}}}' is not a valid variable: use {{{{1}}}} or lowercase names like {{{{first_name}}}}.",
            )
    positions = sorted({int(n) for n in names if POSITIONAL_VARIABLE.match(n)})
    if positions and positions != list(range(1, len(positions) + 1)):
        error(
            "variables_not_sequential",
            "body",
            "Numbered variables must run {{1}}, {{2}}, {{3}}... without gaps.",
        )
    if found and not (text[: found[0].start()].strip() and text[found[-1].end() :].strip()):
        error(
            "variable_at_edge",
            "body",
            "The body cannot start or end with a variable: put fixed text before the first and after the last.",
        )
    if any(not text[a.end() : b.start()].strip() for a, b in pairwise(found)):
        error(
            "variables_adjacent",
            "body",
            "Two variables cannot sit next to each other ({{1}} {{2}}): put fixed text between them.",
        )
    if names and not _has_examples(body, "body", len(set(names))):
        error(
            "example_missing",
            "body",
            "Give an example value for every body variable (example.body_text); Meta rejects templates without them.",
        )


def _lint_header(header: dict[str, Any], error: Any) -> None:
    header_format = str(header.get("format", "TEXT")).upper()
    if header_format != "TEXT":
        return
    text = str(header.get("text", ""))
    if not text.strip():
        error("header_empty", "header", "A text header needs text.")
    if len(text) > rules.HEADER_TEXT_MAX_LENGTH:
        error(
            "header_too_long", "header", f"The header is at most {rules.HEADER_TEXT_MAX_LENGTH} characters."
        )
    names = tokens(text)
    if len(names) > rules.HEADER_MAX_VARIABLES:
        error("header_too_many_variables", "header", "A header may contain at most one variable.")
    if names and not _has_examples(header, "header", 1):
        error(
            "example_missing",
            "header",
            "Give an example value for the header variable (example.header_text).",
        )


def _has_examples(component: dict[str, Any], kind: str, needed: int) -> bool:
    example = component.get("example") or {}
    if not isinstance(example, dict):
        return False
    named = example.get(f"{kind}_text_named_params")
    if isinstance(named, list):
        return len(named) >= needed and all(
            isinstance(p, dict) and str(p.get("example", "")).strip() for p in named
        )
    values = example.get(f"{kind}_text")
    if kind == "body" and isinstance(values, list) and values and isinstance(values[0], list):
        values = values[0]
    return isinstance(values, list) and len(values) >= needed and all(str(v).strip() for v in values)
