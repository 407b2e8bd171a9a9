"""Template lint (templates/lint.py): the format rules Meta rejects templates for."""

from typing import Any

from omniroute.templates.lint import lint
from tests.conftest import NAMED_BODY, POSITIONAL_BODY


def template(*components: dict[str, Any], name: str = "order_update", language: str = "en") -> dict[str, Any]:
    return {"name": name, "language": language, "category": "UTILITY", "components": list(components)}


def error_codes(definition: dict[str, Any]) -> set[str]:
    result = lint(definition)
    return {issue.code for issue in result.issues if issue.severity == "error"}


def test_a_well_formed_positional_template_is_valid() -> None:
    result = lint(template(POSITIONAL_BODY))
    assert result.valid
    assert result.errors() == []


def test_a_well_formed_named_template_is_valid() -> None:
    assert lint(template(NAMED_BODY)).valid


def test_a_full_template_with_header_footer_and_buttons_is_valid() -> None:
    header = {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["#1"]}}
    footer = {"type": "FOOTER", "text": "Reply STOP to opt out"}
    assert lint(template(header, POSITIONAL_BODY, footer)).valid


def test_names_are_lowercase_letters_digits_and_underscores() -> None:
    for bad in ("Order", "order-update", "order update", "", "ördér"):
        assert "name_invalid" in error_codes(template(POSITIONAL_BODY, name=bad)), bad
    assert "name_too_long" in error_codes(template(POSITIONAL_BODY, name="a" * 513))
    assert lint(template(POSITIONAL_BODY, name="a" * 512)).valid


def test_language_must_be_a_whatsapp_code() -> None:
    assert "language_unsupported" in error_codes(template(POSITIONAL_BODY, language="english"))
    for good in ("en", "en_US", "pt_BR", "fr", "ar"):
        assert lint(template(POSITIONAL_BODY, language=good)).valid, good


def test_body_is_required_and_not_empty() -> None:
    assert "body_missing" in error_codes(template({"type": "FOOTER", "text": "x"}))
    assert "body_empty" in error_codes(template({"type": "BODY", "text": "   "}))


def test_body_is_at_most_1024_characters() -> None:
    assert "body_too_long" in error_codes(template({"type": "BODY", "text": "a" * 1025}))
    assert lint(template({"type": "BODY", "text": "a" * 1024})).valid


def test_numbered_variables_run_without_gaps() -> None:
    body = {
        "type": "BODY",
        "text": "Hi {{1}}, your order {{3}} is ready today.",
        "example": {"body_text": [["a", "b"]]},
    }
    assert "variables_not_sequential" in error_codes(template(body))
    starts_at_two = {
        "type": "BODY",
        "text": "Hi {{2}}, your order is ready.",
        "example": {"body_text": [["a"]]},
    }
    assert "variables_not_sequential" in error_codes(template(starts_at_two))


def test_variables_need_valid_names() -> None:
    for bad in ("{{#1}}", "{{$amount}}", "{{50%}}", "{{First Name}}", "{{0}}"):
        body = {
            "type": "BODY",
            "text": f"Hi {bad}, your order is ready today.",
            "example": {"body_text": [["a"]]},
        }
        assert "variable_invalid" in error_codes(template(body)), bad


def test_named_and_numbered_variables_are_never_mixed() -> None:
    body = {
        "type": "BODY",
        "text": "Hi {{first_name}}, your order {{1}} is ready today.",
        "example": {"body_text": [["a", "b"]]},
    }
    assert "variables_mixed" in error_codes(template(body))


def test_every_body_variable_needs_an_example() -> None:
    no_example = {"type": "BODY", "text": "Hi {{1}}, order {{2}} is ready for pickup."}
    assert "example_missing" in error_codes(template(no_example))
    too_few = {**no_example, "example": {"body_text": [["Ada"]]}}
    assert "example_missing" in error_codes(template(too_few))
    blank = {**no_example, "example": {"body_text": [["Ada", " "]]}}
    assert "example_missing" in error_codes(template(blank))
    named_missing = {
        **NAMED_BODY,
        "example": {"body_text_named_params": [{"param_name": "first_name", "example": "Ada"}]},
    }
    assert "example_missing" in error_codes(template(named_missing))


def test_text_header_rules() -> None:
    two_vars = {
        "type": "HEADER",
        "format": "TEXT",
        "text": "{{1}} and {{2}}",
        "example": {"header_text": ["a", "b"]},
    }
    assert "header_too_many_variables" in error_codes(template(two_vars, POSITIONAL_BODY))
    long_header = {"type": "HEADER", "format": "TEXT", "text": "h" * 61}
    assert "header_too_long" in error_codes(template(long_header, POSITIONAL_BODY))
    no_example = {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"}
    assert "example_missing" in error_codes(template(no_example, POSITIONAL_BODY))
    empty = {"type": "HEADER", "format": "TEXT", "text": ""}
    assert "header_empty" in error_codes(template(empty, POSITIONAL_BODY))


def test_footer_rules() -> None:
    assert "footer_too_long" in error_codes(template(POSITIONAL_BODY, {"type": "FOOTER", "text": "f" * 61}))
    assert "footer_has_variables" in error_codes(
        template(POSITIONAL_BODY, {"type": "FOOTER", "text": "Hi {{1}}"})
    )


def test_each_component_appears_once() -> None:
    assert "component_repeated" in error_codes(template(POSITIONAL_BODY, POSITIONAL_BODY))


def test_every_issue_says_where_and_what_to_do() -> None:
    result = lint(template({"type": "BODY", "text": "Hi {{1}} and {{3}}"}, name="Bad Name", language="xx"))
    assert not result.valid
    for issue in result.issues:
        assert issue.severity in ("error", "warning")
        assert issue.component
        assert len(issue.message) > 15
    as_dict = result.as_dict()
    assert as_dict["valid"] is False
    assert {"code", "severity", "component", "message"} == set(as_dict["issues"][0])


def test_body_cannot_start_or_end_with_a_variable() -> None:
    example = {"body_text": [["Ada", "#1"]]}
    for text in (
        "{{1}}, your order {{2}} has shipped today.",
        "  {{1}} your order has shipped {{2}}",
        "Hi there Ada, your order {{1}}",
    ):
        body = {"type": "BODY", "text": text, "example": example}
        assert "variable_at_edge" in error_codes(template(body)), text
    named = {**NAMED_BODY, "text": "{{first_name}}, your appointment on {{day}} is confirmed."}
    assert "variable_at_edge" in error_codes(template(named))
    assert "variable_at_edge" not in error_codes(template(POSITIONAL_BODY))


def test_variables_cannot_be_next_to_each_other() -> None:
    example = {"body_text": [["Ada", "Lovelace"]]}
    for text in ("Hello {{1}} {{2}}, your order has shipped.", "Hello {{1}}{{2}}, your order has shipped."):
        assert "variables_adjacent" in error_codes(
            template({"type": "BODY", "text": text, "example": example})
        ), text
    separated = {"type": "BODY", "text": "Hello {{1}} and {{2}}, your order has shipped.", "example": example}
    assert lint(template(separated)).valid
