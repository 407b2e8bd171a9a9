"""Template lint (templates/lint.py): the format rules Meta rejects templates for."""

from typing import Any

import pytest

from omniroute.policy.templates import MIN_FIXED_WORDS_PER_VARIABLE
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


TRANSACTIONAL = [
    "Your order #4582 of $25.00 has shipped.",
    "Your payment of ₦5,000 was received.",
    "Your appointment is confirmed for Monday.",
    "Your 30-day trial ends tomorrow.",
    "We refunded $12.50 to your card; 100% of it shows within 5 days.",
    "Your subscription renews on 1 March for €9.99.",
    "Your table for 4 is booked at 7 pm. Reply CANCEL to cancel.",
    "Your delivery is free of charge because the parcel arrived late.",
    "Your password was changed. If this wasn't you, contact support.",
]

PROMOTIONAL = [
    ("Get 20% off your next order.", "20% off"),
    ("Buy now while stocks last!", "Buy now"),
    ("Use promo code SPRING at checkout.", "promo code"),
    ("Our flash sale starts Friday.", "flash sale"),
    ("Save up to 50% on all shoes.", "Save up to 50%"),
    ("Don\u2019t miss this!", "Don't miss"),
    ("Every order this week comes with a free gift.", "free gift"),
    ("Limited time: double points on every purchase.", "Limited time"),
]


def utility(text: str) -> dict[str, Any]:
    return template({"type": "BODY", "text": text})


@pytest.mark.parametrize("text", TRANSACTIONAL)
def test_plain_transactional_wording_is_not_flagged(text: str) -> None:
    result = lint(utility(text))
    assert result.issues == []
    assert result.suggested_category is None


@pytest.mark.parametrize(("sentence", "trigger"), PROMOTIONAL)
def test_promotional_sentences_in_a_utility_template_suggest_marketing(sentence: str, trigger: str) -> None:
    text = f"Your order #4582 has shipped. {sentence} Thank you for shopping with us."
    result = lint(utility(text))
    assert result.valid, "promotional wording is a warning: Meta re-categorises, lint does not block"
    [issue] = result.issues
    assert (issue.code, issue.severity, issue.component) == ("promotional_content", "warning", "body")
    assert sentence.replace("\u2019", "'") in issue.message
    assert trigger in issue.message
    assert result.suggested_category == "MARKETING"
    assert result.category_reason == sentence.replace("\u2019", "'")


def test_every_promotional_sentence_is_reported_and_the_first_is_the_reason() -> None:
    header = {"type": "HEADER", "format": "TEXT", "text": "Big sale this week"}
    body = {"type": "BODY", "text": "Your order has shipped. Shop now for our new arrivals."}
    buttons = {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Get 10% off"}]}
    result = lint(template(header, body, buttons))
    assert [(i.code, i.component) for i in result.issues] == [
        ("promotional_content", "header"),
        ("promotional_content", "body"),
        ("promotional_content", "buttons[0]"),
    ]
    assert result.category_reason == "Big sale this week"
    assert result.as_dict()["category_reason"] == "Big sale this week"


def test_promotional_wording_is_expected_in_marketing_templates() -> None:
    definition = {**utility("Get 20% off your next order with code SPRING."), "category": "MARKETING"}
    assert lint(definition).issues == []


def test_one_time_codes_in_a_utility_template_suggest_authentication() -> None:
    result = lint(template(POSITIONAL_BODY, {"type": "FOOTER", "text": "123456 is your login code"}))
    [issue] = result.issues
    assert (issue.code, issue.severity, issue.component) == ("authentication_content", "warning", "footer")
    assert result.suggested_category == "AUTHENTICATION"
    assert result.category_reason == "123456 is your login code"


def test_a_dense_body_is_a_warning_naming_the_policy_number() -> None:
    body = {"type": "BODY", "text": "Hi {{1}}, order {{2}} now.", "example": {"body_text": [["Ada", "#1"]]}}
    result = lint(template(body))
    assert result.valid
    [issue] = result.issues
    assert (issue.code, issue.severity) == ("variable_density", "warning")
    assert f"{MIN_FIXED_WORDS_PER_VARIABLE} words of fixed text per variable" in issue.message


def test_carousel_issues_name_the_card() -> None:
    card = {
        "components": [
            {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::abc"]}},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "x" * 26}]},
        ]
    }
    body = {"type": "BODY", "text": "Here are our plants of the week for your garden."}
    definition = {
        **template(body, {"type": "CAROUSEL", "cards": [card, card]}),
        "category": "MARKETING",
    }
    assert {(i.code, i.component) for i in lint(definition).issues} == {
        ("button_label_too_long", "carousel.cards[0].buttons[0]"),
        ("button_label_too_long", "carousel.cards[1].buttons[0]"),
    }


def test_lint_survives_any_json_shape() -> None:
    for junk in (
        {},
        {"components": "BODY"},
        {"components": [None, 3]},
        {
            "name": 7,
            "language": ["en"],
            "category": {},
            "components": [{"type": 1}, {"type": "BUTTONS", "buttons": "x"}],
        },
    ):
        result = lint(junk)
        assert not result.valid
        assert {"name_invalid", "language_unsupported", "category_invalid"} <= {i.code for i in result.issues}
