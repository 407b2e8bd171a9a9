"""What parameters a template expects, and turning a send's parameters into Meta's
component shape after checking them against the approved definition."""

from typing import Any

from omniroute.core.errors import InvalidRequestError
from omniroute.policy.templates import (
    NAMED_VARIABLE,
    PARAMETER_MAX_CONSECUTIVE_SPACES,
    PARAMETER_TEXT_FORBIDDEN,
    POSITIONAL_VARIABLE,
    VARIABLE_TOKEN,
)

MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")
PARAMETERISED_BUTTONS = ("URL", "COPY_CODE", "OTP")


def tokens(text: str) -> list[str]:
    """The variable names in a text, in order of appearance (``{{1}}`` → ``"1"``)."""
    return [match.group(1) for match in VARIABLE_TOKEN.finditer(text)]


def _component(components: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    return next((c for c in components if str(c.get("type", "")).upper() == kind), None)


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def expected_variables(components: list[dict[str, Any]]) -> dict[str, Any]:
    """``{"format", "header", "header_media", "body", "buttons"}``: per component, the
    positions or names a send must fill."""
    header = _component(components, "HEADER")
    body = _component(components, "BODY")
    buttons = _component(components, "BUTTONS")
    header_format = str(header.get("format", "TEXT")).upper() if header else None
    header_vars = _unique(tokens(str(header.get("text", "")))) if header_format == "TEXT" and header else []
    body_vars = _unique(tokens(str(body.get("text", "")))) if body else []
    buttons_given = buttons.get("buttons", []) if buttons else []
    if body and "text" not in body and any(str(b.get("type", "")).upper() == "OTP" for b in buttons_given):
        body_vars = ["1"]  # AUTHENTICATION: Meta writes "{{1}} is your verification code."
    button_params: list[dict[str, Any]] = []
    quick_replies: list[int] = []
    for index, button in enumerate(buttons_given):
        kind = str(button.get("type", "")).upper()
        if kind == "URL" and tokens(str(button.get("url", ""))):
            button_params.append({"index": index, "type": "URL"})
        elif kind in ("COPY_CODE", "OTP"):
            button_params.append({"index": index, "type": kind})
        elif kind == "QUICK_REPLY":
            quick_replies.append(index)
    everything = header_vars + body_vars
    named = bool(everything) and all(not POSITIONAL_VARIABLE.match(v) for v in everything)
    return {
        "format": "named" if named else "positional",
        "header": header_vars,
        "header_media": header_format if header_format in MEDIA_FORMATS else None,
        "body": body_vars,
        "buttons": button_params,
        "quick_replies": quick_replies,
    }


def is_named(name: str) -> bool:
    return bool(NAMED_VARIABLE.match(name))


def _mismatch(
    component: str, expected: Any, got: Any, why: str, *, param: str | None = None
) -> InvalidRequestError:
    return InvalidRequestError(
        "template_parameters_mismatch",
        f"The template's {component} {why}. Send exactly the parameters the approved template "
        "defines (see the template's `variables`).",
        param=param or f"template.parameters.{component}",
        details={"component": component, "expected": expected, "got": got},
    )


def _single_line(component: str, expected: Any, text: str, param: str) -> str:
    """A text parameter as Meta accepts it: no newline, tab or run of spaces (error 132018)."""
    if PARAMETER_TEXT_FORBIDDEN.search(text):
        raise _mismatch(
            component,
            expected,
            text,
            f"parameter {param} cannot contain a newline, a tab or more than "
            f"{PARAMETER_MAX_CONSECUTIVE_SPACES} consecutive spaces (WhatsApp refuses it)",
            param=param,
        )
    return text


RICH_PARAMETERS = {"currency": ("fallback_value", "code", "amount_1000"), "date_time": ("fallback_value",)}
"""Parameter kinds beside text, in Meta's shape, with the fields each requires."""


def _parameter(
    component: str, expected: Any, name: str, value: Any, param: str
) -> tuple[dict[str, Any], str]:
    """One parameter in Meta's shape, and the text the customer will read for it; ``param``
    names it in errors (``template.parameters.body[1]``)."""
    if isinstance(value, dict):
        kind = str(value.get("type"))
        required = RICH_PARAMETERS.get(kind)
        inner = value.get(kind)
        if required is None or not isinstance(inner, dict) or not set(required) <= set(inner):
            raise _mismatch(
                component,
                expected,
                value,
                f"parameter {name!r} must be text, or a currency "
                '({"type": "currency", "currency": {"fallback_value", "code", "amount_1000"}}) or '
                'date_time ({"type": "date_time", "date_time": {"fallback_value"}}) in Meta\'s shape',
            )
        fallback = inner["fallback_value"]
        if not isinstance(fallback, str) or not fallback:
            raise _mismatch(
                component, expected, value, f"parameter {name!r} needs a non-empty fallback_value"
            )
        return {"type": kind, kind: inner}, _single_line(component, expected, fallback, param)
    if not isinstance(value, str | int | float) or isinstance(value, bool) or str(value) == "":
        raise _mismatch(component, expected, value, f"parameter {name!r} must be non-empty text")
    text = _single_line(component, expected, str(value), param)
    return {"type": "text", "text": text}, text


def _text_values(
    component: str, expected: list[str], given: Any, named: bool
) -> list[tuple[str, dict[str, Any], str]]:
    """Check one text component's values; return (variable, Meta parameter, text) in order."""
    if given is None:
        given = {} if named else []
    if named:
        if not isinstance(given, dict):
            raise _mismatch(component, expected, given, "takes named parameters (an object)")
        if sorted(given) != sorted(expected):
            raise _mismatch(component, expected, sorted(given), "takes different parameter names")
        values = [(name, given[name]) for name in expected]
    else:
        if not isinstance(given, list):
            raise _mismatch(component, len(expected), given, "takes positional parameters (a list)")
        if len(given) != len(expected):
            raise _mismatch(component, len(expected), len(given), f"takes {len(expected)} parameter(s)")
        values = list(zip(expected, given, strict=True))
    checked = []
    for position, (name, value) in enumerate(values):
        param = f"template.parameters.{component}" + (f".{name}" if named else f"[{position}]")
        parameter, text = _parameter(component, expected, name, value, param)
        if named:
            parameter["parameter_name"] = name
        checked.append((name, parameter, text))
    return checked


def _media_parameter(expected: str, media: Any) -> dict[str, Any]:
    """A media header's parameter: ``{"link"}`` or ``{"media_id"}``, optionally with
    ``"type"``, or Meta's own ``{"type": "image", "image": {"link"}}``; the type must be
    the one the template was approved with."""
    if not isinstance(media, dict):
        raise _mismatch("header", expected, media, "needs a media object with link or media_id")
    given_kind = media.get("type") or next((k for k in MEDIA_FORMATS if k.lower() in media), None)
    if given_kind is not None and str(given_kind).upper() != expected:
        raise _mismatch(
            "header", expected, str(given_kind).upper(), f"is an {expected} header; send a {expected.lower()}"
        )
    kind = expected.lower()
    source = media[kind] if isinstance(media.get(kind), dict) else media
    if "link" in source and isinstance(source["link"], str) and source["link"]:
        return {"type": kind, kind: {"link": source["link"]}}
    for key in ("media_id", "id"):
        if isinstance(source.get(key), str) and source[key]:
            return {"type": kind, kind: {"id": source[key]}}
    raise _mismatch("header", expected, media, "needs a media object with link or media_id")


def build_send_components(
    variables: dict[str, Any], parameters: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Check a send's ``parameters`` against the template's ``variables`` and build Meta's
    ``template.components``. Also return the body values by variable, for hydration."""
    named = variables["format"] == "named"
    given_buttons = parameters.get("buttons")
    if (
        any(spec["type"] == "OTP" for spec in variables["buttons"])
        and "body" not in parameters
        and isinstance(given_buttons, list)
        and given_buttons
    ):
        # AUTHENTICATION: Meta takes the code as the body's and the OTP button's parameter;
        # given once (for the button), it is both.
        parameters = {**parameters, "body": given_buttons[:1]}
    unknown = set(parameters) - {"header", "body", "buttons", "quick_replies"}
    if unknown:
        raise _mismatch(sorted(unknown)[0], None, sorted(unknown), "is not a parameter group")
    components: list[dict[str, Any]] = []

    if variables["header_media"]:
        parameter = _media_parameter(variables["header_media"], parameters.get("header"))
        components.append({"type": "header", "parameters": [parameter]})
    elif variables["header"] or parameters.get("header"):
        header = _text_values("header", variables["header"], parameters.get("header"), named)
        components.append({"type": "header", "parameters": [p for _, p, _ in header]})

    body = _text_values("body", variables["body"], parameters.get("body"), named)
    if body:
        components.append({"type": "body", "parameters": [p for _, p, _ in body]})

    expected_buttons = variables["buttons"]
    given_buttons = parameters.get("buttons") or []
    if not isinstance(given_buttons, list) or len(given_buttons) != len(expected_buttons):
        raise _mismatch(
            "buttons",
            len(expected_buttons),
            len(given_buttons) if isinstance(given_buttons, list) else given_buttons,
            f"takes {len(expected_buttons)} button parameter(s), one per URL or code button",
        )
    for position, (spec, value) in enumerate(zip(expected_buttons, given_buttons, strict=True)):
        if not isinstance(value, str) or not value:
            raise _mismatch("buttons", expected_buttons, value, "parameters must be non-empty text")
        _single_line("buttons", expected_buttons, value, f"template.parameters.buttons[{position}]")
        if spec["type"] == "COPY_CODE":
            parameter = {"type": "coupon_code", "coupon_code": value}
            sub_type = "copy_code"
        else:
            parameter = {"type": "text", "text": value}
            sub_type = "url"
        components.append(
            {"type": "button", "sub_type": sub_type, "index": str(spec["index"]), "parameters": [parameter]}
        )
    components.extend(
        _quick_reply_payloads(variables.get("quick_replies", []), parameters.get("quick_replies"))
    )
    return components, {name: text for name, _, text in body}


def _quick_reply_payloads(indexes: list[int], payloads: Any) -> list[dict[str, Any]]:
    """Optional: the payload each quick-reply button returns when tapped (without one, the
    customer's reply carries the button's text). One per quick-reply button, in order."""
    if payloads is None:
        return []
    if not isinstance(payloads, list) or len(payloads) != len(indexes):
        got = len(payloads) if isinstance(payloads, list) else payloads
        raise _mismatch(
            "quick_replies", len(indexes), got, f"takes {len(indexes)} payload(s), one per quick-reply button"
        )
    if not all(isinstance(payload, str) and payload for payload in payloads):
        raise _mismatch("quick_replies", len(indexes), payloads, "payloads must be non-empty text")
    return [
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": str(index),
            "parameters": [{"type": "payload", "payload": payload}],
        }
        for index, payload in zip(indexes, payloads, strict=True)
    ]


def hydrate(text: str, values: dict[str, str]) -> str:
    """The text the customer will read, with every variable filled in."""
    return VARIABLE_TOKEN.sub(lambda m: values.get(m.group(1), m.group(0)), text)
