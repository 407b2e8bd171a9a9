"""What a template expects (expected_variables) and how a send's parameters become
Meta's ``template.components`` (build_send_components)."""

from typing import Any

import pytest

from omniroute.core.errors import InvalidRequestError
from omniroute.templates.variables import build_send_components, expected_variables, hydrate, tokens
from tests.conftest import NAMED_BODY, POSITIONAL_BODY

HEADER_TEXT = {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["#1"]}}
HEADER_IMAGE = {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["h"]}}
BUTTONS = {
    "type": "BUTTONS",
    "buttons": [
        {"type": "QUICK_REPLY", "text": "Stop"},
        {"type": "URL", "text": "Track", "url": "https://example.com/t/{{1}}"},
        {"type": "URL", "text": "Home", "url": "https://example.com/"},
        {"type": "COPY_CODE", "example": "SAVE10"},
    ],
}


def mismatch(variables: dict[str, Any], parameters: dict[str, Any]) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as raised:
        build_send_components(variables, parameters)
    assert raised.value.code == "template_parameters_mismatch"
    assert raised.value.status_code == 422
    return raised.value


def test_tokens_lists_variables_in_order() -> None:
    assert tokens("Hi {{1}}, order {{2}} for {{ 1 }}") == ["1", "2", "1"]
    assert tokens("no variables") == []


def test_positional_body_variables_are_expected_in_order() -> None:
    variables = expected_variables([POSITIONAL_BODY])
    assert variables == {
        "format": "positional",
        "header": [],
        "header_media": None,
        "body": ["1", "2"],
        "buttons": [],
        "quick_replies": [],
    }


def test_a_repeated_variable_is_expected_once() -> None:
    body = {"type": "BODY", "text": "Hi {{1}}, yes you {{1}}, order {{2}}."}
    assert expected_variables([body])["body"] == ["1", "2"]


def test_named_body_variables_are_expected_by_name() -> None:
    variables = expected_variables([NAMED_BODY])
    assert variables["format"] == "named"
    assert variables["body"] == ["first_name", "day"]


def test_template_without_variables_expects_nothing() -> None:
    variables = expected_variables([{"type": "BODY", "text": "Thanks for your order."}])
    assert variables["body"] == []
    assert build_send_components(variables, {}) == ([], {})


def test_header_and_buttons_are_expected_where_they_take_parameters() -> None:
    variables = expected_variables([HEADER_TEXT, POSITIONAL_BODY, BUTTONS])
    assert variables["header"] == ["1"]
    assert variables["header_media"] is None
    assert variables["buttons"] == [{"index": 1, "type": "URL"}, {"index": 3, "type": "COPY_CODE"}]


def test_media_header_expects_a_media_object() -> None:
    variables = expected_variables([HEADER_IMAGE, POSITIONAL_BODY])
    assert variables["header_media"] == "IMAGE"
    assert variables["header"] == []


def test_positional_parameters_become_metas_body_component() -> None:
    components, body = build_send_components(expected_variables([POSITIONAL_BODY]), {"body": ["Ada", 4582]})
    assert components == [
        {"type": "body", "parameters": [{"type": "text", "text": "Ada"}, {"type": "text", "text": "4582"}]}
    ]
    assert body == {"1": "Ada", "2": "4582"}


def test_named_parameters_carry_their_names_in_template_order() -> None:
    components, body = build_send_components(
        expected_variables([NAMED_BODY]), {"body": {"day": "Monday", "first_name": "Ada"}}
    )
    assert components == [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "Ada", "parameter_name": "first_name"},
                {"type": "text", "text": "Monday", "parameter_name": "day"},
            ],
        }
    ]
    assert body == {"first_name": "Ada", "day": "Monday"}


def test_header_media_and_buttons_are_built_in_metas_shape() -> None:
    variables = expected_variables([HEADER_IMAGE, POSITIONAL_BODY, BUTTONS])
    components, _ = build_send_components(
        variables,
        {
            "header": {"link": "https://example.com/a.png"},
            "body": ["Ada", "#1"],
            "buttons": ["abc", "SAVE10"],
        },
    )
    assert components[0] == {
        "type": "header",
        "parameters": [{"type": "image", "image": {"link": "https://example.com/a.png"}}],
    }
    assert components[2] == {
        "type": "button",
        "sub_type": "url",
        "index": "1",
        "parameters": [{"type": "text", "text": "abc"}],
    }
    assert components[3] == {
        "type": "button",
        "sub_type": "copy_code",
        "index": "3",
        "parameters": [{"type": "coupon_code", "coupon_code": "SAVE10"}],
    }


def test_media_header_by_id() -> None:
    variables = expected_variables([HEADER_IMAGE, POSITIONAL_BODY])
    components, _ = build_send_components(variables, {"header": {"media_id": "77"}, "body": ["a", "b"]})
    assert components[0]["parameters"][0] == {"type": "image", "image": {"id": "77"}}


def test_wrong_count_reports_expected_and_got() -> None:
    error = mismatch(expected_variables([POSITIONAL_BODY]), {"body": ["Ada"]})
    assert (error.details["expected"], error.details["got"]) == (2, 1)
    assert error.param == "template.parameters.body"


def test_missing_body_parameters_count_as_none_given() -> None:
    error = mismatch(expected_variables([POSITIONAL_BODY]), {})
    assert (error.details["expected"], error.details["got"]) == (2, 0)


def test_named_template_reports_expected_and_given_names() -> None:
    error = mismatch(expected_variables([NAMED_BODY]), {"body": {"first_name": "Ada"}})
    assert error.details["expected"] == ["first_name", "day"]
    assert error.details["got"] == ["first_name"]


@pytest.mark.parametrize(
    "parameters",
    [
        {"body": {"1": "Ada", "2": "x"}},
        {"body": "Ada"},
        {"body": ["Ada", ""]},
        {"body": ["Ada", True]},
        {"body": ["Ada", None]},
        {"body": ["Ada", ["nested"]]},
        {"body": ["Ada", "x"], "footer": ["x"]},
        {"body": ["Ada", "x"], "header": ["unexpected"]},
        {"body": ["Ada", "x"], "buttons": ["unexpected"]},
    ],
)
def test_positional_template_refuses_malformed_parameters(parameters: dict[str, Any]) -> None:
    mismatch(expected_variables([POSITIONAL_BODY]), parameters)


@pytest.mark.parametrize(
    "parameters",
    [
        {"body": ["Ada", "Monday"]},
        {"body": {"first_name": "Ada", "day": "Monday", "extra": "x"}},
        {"body": {"first_name": "Ada", "day": ""}},
    ],
)
def test_named_template_refuses_malformed_parameters(parameters: dict[str, Any]) -> None:
    mismatch(expected_variables([NAMED_BODY]), parameters)


@pytest.mark.parametrize(
    "header", [None, ["https://example.com/a.png"], {"url": "https://example.com/a.png"}, "https://x"]
)
def test_media_header_refuses_anything_but_a_link_or_media_id(header: Any) -> None:
    variables = expected_variables([HEADER_IMAGE, POSITIONAL_BODY])
    error = mismatch(variables, {"header": header, "body": ["a", "b"]})
    assert error.details["expected"] == "IMAGE"


@pytest.mark.parametrize("buttons", [[], ["abc"], ["abc", "SAVE10", "x"], ["abc", ""], "abc"])
def test_buttons_take_one_parameter_per_url_or_code_button(buttons: Any) -> None:
    variables = expected_variables([POSITIONAL_BODY, BUTTONS])
    mismatch(variables, {"body": ["a", "b"], "buttons": buttons})


def test_quick_reply_payloads_are_optional_and_go_to_their_buttons() -> None:
    variables = expected_variables([POSITIONAL_BODY, BUTTONS])
    assert variables["quick_replies"] == [0]
    without, _ = build_send_components(variables, {"body": ["a", "b"], "buttons": ["t1", "CODE"]})
    assert all(c.get("sub_type") != "quick_reply" for c in without)
    with_payload, _ = build_send_components(
        variables, {"body": ["a", "b"], "buttons": ["t1", "CODE"], "quick_replies": ["stop-4582"]}
    )
    assert with_payload[-1] == {
        "type": "button",
        "sub_type": "quick_reply",
        "index": "0",
        "parameters": [{"type": "payload", "payload": "stop-4582"}],
    }


@pytest.mark.parametrize("payloads", [[], ["a", "b"], [""], "stop", [7]])
def test_quick_reply_payloads_are_one_non_empty_text_per_quick_reply(payloads: Any) -> None:
    variables = expected_variables([POSITIONAL_BODY, BUTTONS])
    error = mismatch(variables, {"body": ["a", "b"], "buttons": ["t1", "CODE"], "quick_replies": payloads})
    assert error.param == "template.parameters.quick_replies"


def test_hydrate_fills_every_variable() -> None:
    assert hydrate(POSITIONAL_BODY["text"], {"1": "Ada", "2": "#4582"}) == (
        "Hi Ada, your order #4582 has shipped and will arrive soon."
    )
    assert hydrate("Hello {{first_name}}", {"first_name": "Ada"}) == "Hello Ada"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("Ada\nObi", "a newline"),
        ("Ada\r\nObi", "a carriage return"),
        ("Ada\tObi", "a tab"),
        ("Ada     Obi", "five consecutive spaces"),
    ],
)
def test_a_text_parameter_with_a_newline_tab_or_five_spaces_is_refused_naming_it(
    value: str, why: str
) -> None:
    """Meta refuses these with 132018; the error names the parameter."""
    variables = expected_variables([POSITIONAL_BODY])
    error = mismatch(variables, {"body": ["Ada", value]})
    assert error.param == "template.parameters.body[1]", why
    assert "4 consecutive spaces" in error.message


def test_four_consecutive_spaces_are_allowed() -> None:
    variables = expected_variables([POSITIONAL_BODY])
    components, _ = build_send_components(variables, {"body": ["Ada", "#4582    A"]})
    assert components[0]["parameters"][1]["text"] == "#4582    A"


def test_named_header_currency_and_button_parameters_are_checked_too() -> None:
    named = expected_variables([NAMED_BODY])
    error = mismatch(named, {"body": {"first_name": "Ada", "day": "Mon\nday"}})
    assert error.param == "template.parameters.body.day"
    header = expected_variables([HEADER_TEXT, POSITIONAL_BODY, BUTTONS])
    money = {
        "type": "currency",
        "currency": {"fallback_value": "$1\t00", "code": "USD", "amount_1000": 100000},
    }
    error = mismatch(header, {"header": ["#1"], "body": ["Ada", money], "buttons": ["t1", "CODE"]})
    assert error.param == "template.parameters.body[1]"
    error = mismatch(header, {"header": ["#1\n"], "body": ["Ada", "x"], "buttons": ["t1", "CODE"]})
    assert error.param == "template.parameters.header[0]"
    error = mismatch(header, {"body": ["Ada", "x"], "header": ["#1"], "buttons": ["t1", "SAVE\t10"]})
    assert error.param == "template.parameters.buttons[1]"
