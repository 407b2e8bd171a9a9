"""Strict validation of a Cloud API send body, the way Meta validates it: anything
malformed is error 100 with ``error_data.details`` naming the offending parameter."""

from dataclasses import dataclass
from typing import Any

from omniroute.emulator.errors import GraphError, invalid
from omniroute.messages.interactive import InteractiveProblem, check_interactive
from omniroute.messages.schemas import WHATSAPP_KINDS
from omniroute.policy import errors as meta_errors
from omniroute.policy import message_format as fmt
from omniroute.policy.templates import PARAMETER_MAX_CONSECUTIVE_SPACES, PARAMETER_TEXT_FORBIDDEN


@dataclass(frozen=True)
class Send:
    to: str
    wa_id: str
    type: str
    content: dict[str, Any]
    """The object under the message's ``type`` key, as sent."""
    reply_to: str | None
    callback_data: str | None


def wa_id_of(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def _object(parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = parent.get(key)
    if value is None:
        raise invalid(f"The parameter {where}{key} is required.")
    if not isinstance(value, dict):
        raise invalid(f"Param {where}{key} must be a JSON object.")
    return value


def _text(
    parent: dict[str, Any], key: str, where: str, max_length: int | None = None, *, required: bool = True
) -> str | None:
    value = parent.get(key)
    if value is None:
        if required:
            raise invalid(f"The parameter {where}{key} is required.")
        return None
    if not isinstance(value, str):
        raise invalid(f"Param {where}{key} must be a string.")
    if required and not value.strip():
        raise invalid(f"Param {where}{key} must be non-empty.")
    if max_length is not None and len(value) > max_length:
        raise invalid(f"Param {where}{key} must be at most {max_length} characters long.")
    return value


def _unexpected(value: dict[str, Any], allowed: set[str], where: str) -> None:
    for key in value:
        if key not in allowed:
            raise invalid(f'Unexpected key "{key}" on param "{where.rstrip(".")}".')


def _text_content(content: dict[str, Any]) -> None:
    _unexpected(content, {"body", "preview_url"}, "text.")
    _text(content, "body", "text.", fmt.TEXT_BODY_MAX_LENGTH)
    if "preview_url" in content and not isinstance(content["preview_url"], bool):
        raise invalid("Param text.preview_url must be a boolean.")


def _media(kind: str, content: dict[str, Any], where: str) -> None:
    allowed = {"id", "link"}
    if kind in fmt.CAPTIONED_MEDIA:
        allowed.add("caption")
    if kind == "document":
        allowed.add("filename")
    _unexpected(content, allowed, where)
    has_id, has_link = "id" in content, "link" in content
    if has_id == has_link:
        raise invalid(f"Param {where.rstrip('.')} must contain either id or link, not both or neither.")
    if has_link:
        link = _text(content, "link", where)
        if not str(link).startswith(("http://", "https://")):
            raise invalid(f"Param {where}link must be an http(s) URL.")
    else:
        _text(content, "id", where)
    _text(content, "caption", where, fmt.CAPTION_MAX_LENGTH, required=False)
    _text(content, "filename", where, required=False)


def _interactive(content: dict[str, Any]) -> None:
    try:
        check_interactive(content)
    except InteractiveProblem as problem:
        raise invalid(f"Param {problem.message}") from None


def _reaction(content: dict[str, Any]) -> None:
    _unexpected(content, {"message_id", "emoji"}, "reaction.")
    _text(content, "message_id", "reaction.")
    if not isinstance(content.get("emoji"), str):
        raise invalid("The parameter reaction.emoji is required (an empty string removes a reaction).")


def _location(content: dict[str, Any]) -> None:
    _unexpected(content, {"latitude", "longitude", "name", "address"}, "location.")
    for key, bound in (("latitude", 90), ("longitude", 180)):
        value = content.get(key)
        if value is None:
            raise invalid(f"The parameter location.{key} is required.")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise invalid(f"Param location.{key} must be a number.") from None
        if not -bound <= number <= bound:
            raise invalid(f"Param location.{key} must be between -{bound} and {bound}.")
    _text(content, "name", "location.", required=False)
    _text(content, "address", "location.", required=False)


def _contacts(contacts: Any) -> None:
    if not isinstance(contacts, list) or not contacts:
        raise invalid("The parameter contacts is required and must be a non-empty array.")
    for index, contact in enumerate(contacts):
        where = f"contacts[{index}]."
        if not isinstance(contact, dict):
            raise invalid(f"Param {where.rstrip('.')} must be a JSON object.")
        _text(_object(contact, "name", where), "formatted_name", f"{where}name.")


def _template(content: dict[str, Any]) -> None:
    _unexpected(content, {"name", "language", "components", "namespace"}, "template.")
    _text(content, "name", "template.")
    language = _object(content, "language", "template.")
    _text(language, "code", "template.language.")
    components = content.get("components", [])
    if not isinstance(components, list):
        raise invalid("Param template.components must be an array.")
    for index, component in enumerate(components):
        where = f"template.components[{index}]."
        if not isinstance(component, dict):
            raise invalid(f"Param {where.rstrip('.')} must be a JSON object.")
        if str(component.get("type", "")).lower() not in ("header", "body", "button"):
            raise invalid(f"Param {where}type must be one of header, body, button.")
        if str(component["type"]).lower() == "button":
            if component.get("sub_type") not in (
                "quick_reply",
                "url",
                "copy_code",
                "catalog",
                "flow",
                "voice_call",
            ):
                raise invalid(f"Param {where}sub_type is required for button components.")
            if not str(component.get("index", "")).isdigit():
                raise invalid(f"Param {where}index is required for button components.")
        parameters = component.get("parameters", [])
        if not isinstance(parameters, list):
            raise invalid(f"Param {where}parameters must be an array.")
        for p_index, parameter in enumerate(parameters):
            p_where = f"{where}parameters[{p_index}]."
            if not isinstance(parameter, dict) or not isinstance(parameter.get("type"), str):
                raise invalid(f"The parameter {p_where}type is required.")
            kind = parameter["type"]
            if kind not in parameter:
                raise invalid(f"The parameter {p_where}{kind} is required.")
            if kind == "text" and PARAMETER_TEXT_FORBIDDEN.search(str(parameter["text"])):
                raise GraphError(
                    meta_errors.TEMPLATE_PARAM_FORMAT,
                    f"Param {p_where}text cannot have new-line/tab characters or more than "
                    f"{PARAMETER_MAX_CONSECUTIVE_SPACES} consecutive spaces",
                )
            if kind in fmt.MEDIA_TYPES:
                _media(kind, _object(parameter, kind, p_where), f"{p_where}{kind}.")


_CONTENT_CHECKS = {
    "text": _text_content,
    "interactive": _interactive,
    "reaction": _reaction,
    "location": _location,
    "template": _template,
}


def validate_send(body: dict[str, Any]) -> Send:
    if body.get("messaging_product") != "whatsapp":
        raise GraphError(100, message="(#100) The parameter messaging_product is required.")
    if body.get("recipient_type", "individual") != "individual":
        raise invalid("Param recipient_type must be individual.")
    to = body.get("to")
    if not isinstance(to, str) or not to.strip():
        raise invalid("The parameter to is required.")
    wa_id = wa_id_of(to)
    if not 7 <= len(wa_id) <= 15:
        raise invalid(f"Param to is not a valid phone number: {to!r}.")
    kind = body.get("type", "text")
    if kind not in WHATSAPP_KINDS:
        raise invalid(f"Param type must be one of {', '.join(WHATSAPP_KINDS)}; got {kind!r}.")
    for other in set(WHATSAPP_KINDS) - {kind}:
        if other in body:
            raise invalid(f'Unexpected key "{other}" for a message of type {kind}.')
    if kind == "contacts":
        _contacts(body.get("contacts"))
        content: dict[str, Any] = {"contacts": body["contacts"]}
    else:
        content = _object(body, kind, "")
        if kind in fmt.MEDIA_TYPES:
            _media(kind, content, f"{kind}.")
        else:
            _CONTENT_CHECKS[kind](content)
    reply_to = None
    if "context" in body:
        context = _object(body, "context", "")
        reply_to = _text(context, "message_id", "context.")
    callback = _text(body, "biz_opaque_callback_data", "", fmt.CALLBACK_DATA_MAX_LENGTH, required=False)
    return Send(to=to, wa_id=wa_id, type=kind, content=content, reply_to=reply_to, callback_data=callback)
