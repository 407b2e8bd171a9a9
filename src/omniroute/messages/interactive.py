"""Meta's rules for an interactive message (reply buttons, lists, CTA URL ...), checked the
way the Cloud API checks them. One implementation for both sides: the send schema turns a
problem into a 422 naming the field, the emulator into Meta's error 100. The numbers live in
``policy/message_format.py``."""

from dataclasses import dataclass
from typing import Any

from omniroute.policy import message_format as fmt


@dataclass(frozen=True)
class InteractiveProblem(Exception):
    """What is wrong, and where: ``path`` is the field, e.g. ``interactive.action.buttons[3]``."""

    path: str
    reason: str

    @property
    def message(self) -> str:
        return f"{self.path} {self.reason}"


def _object(parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = parent.get(key)
    if value is None:
        raise InteractiveProblem(f"{where}.{key}", "is required.")
    if not isinstance(value, dict):
        raise InteractiveProblem(f"{where}.{key}", "must be a JSON object.")
    return value


def _text(
    parent: dict[str, Any], key: str, where: str, max_length: int | None = None, *, required: bool = True
) -> str | None:
    path = f"{where}.{key}"
    value = parent.get(key)
    if value is None:
        if required:
            raise InteractiveProblem(path, "is required.")
        return None
    if not isinstance(value, str):
        raise InteractiveProblem(path, "must be a string.")
    if required and not value.strip():
        raise InteractiveProblem(path, "must be non-empty.")
    if max_length is not None and len(value) > max_length:
        raise InteractiveProblem(path, f"must be at most {max_length} characters long.")
    return value


def _list(parent: dict[str, Any], key: str, where: str, most: int | None) -> list[Any]:
    """A non-empty array; past ``most`` elements the first one too many is named."""
    path = f"{where}.{key}"
    value = parent.get(key)
    if not isinstance(value, list):
        raise InteractiveProblem(path, "is required and must be an array.")
    if not value:
        raise InteractiveProblem(path, "must have at least 1 element.")
    if most is not None and len(value) > most:
        raise InteractiveProblem(f"{path}[{most}]", f"is one too many: at most {most} are allowed.")
    return value


def _element(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InteractiveProblem(path, "must be a JSON object.")
    return value


def _web_address(value: str | None, path: str) -> None:
    if not str(value).startswith(("http://", "https://")):
        raise InteractiveProblem(path, "must be an http(s) URL.")


def _kind(
    element: dict[str, Any], where: str, kinds: frozenset[str] | tuple[str, ...], here: str = ""
) -> str:
    """``element``'s ``type``: one of ``kinds`` (any other JSON value, an object included, is refused)."""
    kind = element.get("type")
    if not isinstance(kind, str) or kind not in kinds:
        raise InteractiveProblem(f"{where}.type", f"must be one of {', '.join(sorted(kinds))}{here}.")
    return kind


def _header(header: dict[str, Any], where: str, kinds: tuple[str, ...]) -> None:
    kind = _kind(header, where, kinds, " here")
    if kind == "text":
        _text(header, "text", where, fmt.INTERACTIVE_HEADER_TEXT_MAX_LENGTH)
        return
    media = _object(header, str(kind), where)
    media_where = f"{where}.{kind}"
    if ("id" in media) == ("link" in media):
        raise InteractiveProblem(media_where, "must contain either id or link, not both or neither.")
    if "link" in media:
        _web_address(_text(media, "link", media_where), f"{media_where}.link")
    else:
        _text(media, "id", media_where)


def _reply_buttons(action: dict[str, Any], where: str) -> None:
    buttons = _list(action, "buttons", where, fmt.REPLY_BUTTONS_MAX)
    ids: set[str] = set()
    titles: set[str] = set()
    for index, raw in enumerate(buttons):
        button_where = f"{where}.buttons[{index}]"
        button = _element(raw, button_where)
        if button.get("type") != "reply":
            raise InteractiveProblem(f"{button_where}.type", "must be reply.")
        reply = _object(button, "reply", button_where)
        reply_where = f"{button_where}.reply"
        button_id = str(_text(reply, "id", reply_where, fmt.REPLY_BUTTON_ID_MAX_LENGTH))
        title = str(_text(reply, "title", reply_where, fmt.REPLY_BUTTON_TITLE_MAX_LENGTH))
        if button_id in ids:
            raise InteractiveProblem(f"{reply_where}.id", "repeats another button's id: ids must be unique.")
        if title in titles:
            raise InteractiveProblem(
                f"{reply_where}.title", "repeats another button's title: titles must be unique."
            )
        ids.add(button_id)
        titles.add(title)


def _list_sections(action: dict[str, Any], where: str) -> None:
    _text(action, "button", where, fmt.LIST_BUTTON_MAX_LENGTH)
    sections = _list(action, "sections", where, fmt.LIST_SECTIONS_MAX)
    rows_total = 0
    row_ids: set[str] = set()
    for s_index, raw_section in enumerate(sections):
        section_where = f"{where}.sections[{s_index}]"
        section = _element(raw_section, section_where)
        _text(section, "title", section_where, fmt.LIST_SECTION_TITLE_MAX_LENGTH, required=len(sections) > 1)
        for r_index, raw_row in enumerate(_list(section, "rows", section_where, None)):
            row_where = f"{section_where}.rows[{r_index}]"
            if rows_total == fmt.LIST_ROWS_MAX:
                raise InteractiveProblem(
                    row_where,
                    f"is one too many: a list has at most {fmt.LIST_ROWS_MAX} rows in all sections.",
                )
            rows_total += 1
            row = _element(raw_row, row_where)
            row_id = str(_text(row, "id", row_where, fmt.LIST_ROW_ID_MAX_LENGTH))
            _text(row, "title", row_where, fmt.LIST_ROW_TITLE_MAX_LENGTH)
            _text(row, "description", row_where, fmt.LIST_ROW_DESCRIPTION_MAX_LENGTH, required=False)
            if row_id in row_ids:
                raise InteractiveProblem(f"{row_where}.id", "repeats another row's id: ids must be unique.")
            row_ids.add(row_id)


def _cta_url(action: dict[str, Any], where: str) -> None:
    if action.get("name") != "cta_url":
        raise InteractiveProblem(f"{where}.name", "must be cta_url.")
    parameters = _object(action, "parameters", where)
    parameters_where = f"{where}.parameters"
    _text(parameters, "display_text", parameters_where, fmt.CTA_DISPLAY_TEXT_MAX_LENGTH)
    _web_address(_text(parameters, "url", parameters_where), f"{parameters_where}.url")


BODY_REQUIRED = frozenset({"button", "list", "cta_url"})
_HEADER_KINDS = ("text", "image", "video", "document")
_ACTION_CHECKS = {"button": _reply_buttons, "list": _list_sections, "cta_url": _cta_url}


def check_interactive(content: Any, where: str = "interactive") -> None:
    """Raise ``InteractiveProblem`` for the first rule ``content`` breaks."""
    content = _element(content, where)
    kind = _kind(content, where, fmt.INTERACTIVE_TYPES)
    body_limit = fmt.INTERACTIVE_LIST_BODY_MAX_LENGTH if kind == "list" else fmt.INTERACTIVE_BODY_MAX_LENGTH
    if kind in BODY_REQUIRED or "body" in content:
        _text(_object(content, "body", where), "text", f"{where}.body", body_limit)
    if "footer" in content:
        _text(_object(content, "footer", where), "text", f"{where}.footer", fmt.INTERACTIVE_FOOTER_MAX_LENGTH)
    if "header" in content:
        header_kinds = ("text",) if kind == "list" else _HEADER_KINDS
        _header(_object(content, "header", where), f"{where}.header", header_kinds)
    action = _object(content, "action", where)
    check_action = _ACTION_CHECKS.get(str(kind))
    if check_action is not None:
        check_action(action, f"{where}.action")
