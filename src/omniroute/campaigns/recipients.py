"""Reading a campaign's recipient list (a JSON array or a streamed CSV file) and screening
each row: a valid address for the channel, not a duplicate, not opted out, parameters
that fit the template or text. Shared by creating a campaign and estimating one, so both
say the same thing about the same list.

What a row carries besides its address depends on what the campaign sends (a ``Shape``):
a WhatsApp template's parameters (``TemplateShape``), or the values of the ``{{variable}}``
placeholders of an SMS or email campaign's text (``TextShape``)."""

import codecs
import csv
import html
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Protocol

from omniroute.campaigns.schemas import RecipientIn
from omniroute.core.email_address import has_line_break
from omniroute.core.errors import InvalidRequestError
from omniroute.policy.message_format import TEXT_BODY_MAX_LENGTH
from omniroute.templates.variables import build_send_components

TO_COLUMN = "to"
REFERENCE_COLUMN = "reference"
HEADER_PREFIX = "header."
BUTTON_PREFIX = "button."


@dataclass(frozen=True)
class Row:
    number: int
    to: str
    parameters: dict[str, Any]
    reference: str | None


@dataclass(frozen=True)
class Screened:
    row: Row
    to: str
    """E.164 when valid; the raw value otherwise."""
    reason: str | None
    """None: to be sent; else the error code saying why it is skipped."""
    detail: str | None = None


def from_json(recipients: Iterable[RecipientIn]) -> Iterator[Row]:
    for number, recipient in enumerate(recipients, start=1):
        yield Row(number, recipient.to, recipient.parameters, recipient.reference)


Cell = Callable[[str], str]
"""A CSV row's value in a column ('' when absent)."""


class Shape(Protocol):
    def columns(self) -> list[str]:
        """The CSV columns a row needs besides ``to``."""

    def parameters(self, cell: Cell) -> dict[str, Any]:
        """A CSV row's parameters."""

    def check(self, parameters: dict[str, Any]) -> None:
        """Raise the contract's error if these parameters cannot be sent."""


@dataclass(frozen=True)
class TemplateShape:
    """A WhatsApp template's variables (``Template.variables``)."""

    variables: dict[str, Any]

    def columns(self) -> list[str]:
        return csv_columns(self.variables)

    def parameters(self, cell: Cell) -> dict[str, Any]:
        return _parameters(self.variables, cell, self.variables["format"] == "named")

    def check(self, parameters: dict[str, Any]) -> None:
        build_send_components(self.variables, parameters)


PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
"""``{{first_name}}`` in an SMS or email campaign's text."""
FILLED_FIELDS = {"text": ("body",), "email": ("subject", "text", "html")}
"""The fields of a text or email content whose placeholders are filled per recipient."""


@dataclass(frozen=True)
class TextShape:
    """An SMS or email campaign's content (``{"text": {...}}`` or ``{"email": {...}}``)
    and the placeholders it holds."""

    kind: str
    content: dict[str, Any]

    def fields(self) -> dict[str, str]:
        return {f: str(self.content[f]) for f in FILLED_FIELDS[self.kind] if self.content.get(f) is not None}

    def columns(self) -> list[str]:
        return list(
            dict.fromkeys(name for value in self.fields().values() for name in PLACEHOLDER.findall(value))
        )

    def parameters(self, cell: Cell) -> dict[str, Any]:
        return {name: cell(name) for name in self.columns()}

    def check(self, parameters: dict[str, Any]) -> None:
        self.render(parameters)

    def render(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """The content for one recipient; the contract's error naming the parameter if a
        placeholder has no value, a subject would hold a line break, or an SMS would be
        too long."""
        missing = [name for name in self.columns() if str(parameters.get(name) or "").strip() == ""]
        if missing:
            raise InvalidRequestError(
                "parameter_missing",
                f"No value for {', '.join('{{' + m + '}}' for m in missing)}.",
                param=f"parameters.{missing[0]}",
                details={"expected": self.columns(), "got": sorted(parameters)},
            )
        rendered = dict(self.content)
        for field, value in self.fields().items():
            rendered[field] = _fill(value, parameters, html.escape if field == "html" else str)
        if self.kind == "email" and has_line_break(rendered["subject"]):
            raise InvalidRequestError(
                "parameter_invalid", "A subject's parameter cannot hold a line break.", param="parameters"
            )
        if self.kind == "text" and len(rendered["body"]) > TEXT_BODY_MAX_LENGTH:
            raise InvalidRequestError(
                "text_too_long",
                f"With these parameters the text is {len(rendered['body'])} characters; at most "
                f"{TEXT_BODY_MAX_LENGTH} are sent.",
                param="parameters",
            )
        return rendered


def _fill(text: str, parameters: dict[str, Any], escape: Callable[[str], str]) -> str:
    return PLACEHOLDER.sub(lambda match: escape(str(parameters[match.group(1)])), text)


def csv_columns(variables: dict[str, Any]) -> list[str]:
    """The CSV columns a template's variables need: each body variable by its name (``1``,
    ``2``, … or ``first_name``), header variables as ``header.<name>``, a media header as
    ``header.link``, URL and code buttons as ``button.<index>``."""
    columns = [f"{HEADER_PREFIX}link"] if variables["header_media"] else []
    columns += [f"{HEADER_PREFIX}{name}" for name in variables["header"]]
    columns += list(variables["body"])
    columns += [f"{BUTTON_PREFIX}{button['index']}" for button in variables["buttons"]]
    return columns


def from_csv(file: IO[bytes], shape: Shape) -> Iterator[Row]:
    """The rows of a CSV file read line by line (the upload stays on disk): a ``to`` column,
    one column per template variable (``csv_columns``) or text placeholder, an optional
    ``reference``."""
    text = codecs.getreader("utf-8-sig")(file)
    reader = csv.reader(text)
    try:
        header = [column.strip() for column in next(reader)]
    except StopIteration:
        raise InvalidRequestError("csv_invalid", "The CSV file is empty.", param="file") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidRequestError(
            "csv_invalid", f"The CSV file could not be read: {exc}.", param="file"
        ) from exc
    columns = shape.columns()
    missing = [c for c in (TO_COLUMN, *columns) if c not in header]
    if missing:
        raise InvalidRequestError(
            "template_parameters_mismatch" if isinstance(shape, TemplateShape) else "parameter_missing",
            f"The CSV file has no column {', '.join(repr(c) for c in missing)}: it needs a 'to' column and "
            f"one per variable ({', '.join(columns) or 'none'}).",
            param="file",
            details={"expected": [TO_COLUMN, *columns], "got": header},
        )
    index = {column: position for position, column in enumerate(header)}
    try:
        for number, cells in enumerate(reader, start=1):
            values = [cell.replace("\x00", "") for cell in cells]  # NUL cannot be stored
            if not any(v.strip() for v in values):
                continue

            def cell(column: str, values: list[str] = values) -> str:
                position = index[column]
                return values[position].strip() if position < len(values) else ""

            reference = cell(REFERENCE_COLUMN) if REFERENCE_COLUMN in index else ""
            yield Row(number, cell(TO_COLUMN), shape.parameters(cell), reference[:200] or None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidRequestError(
            "csv_invalid", f"The CSV file could not be read: {exc}.", param="file"
        ) from exc


def _parameters(variables: dict[str, Any], cell: Cell, named: bool) -> dict[str, Any]:
    parameters: dict[str, Any] = {}

    def group(names: list[str], prefix: str) -> Any:
        if named:
            return {name: cell(prefix + name) for name in names}
        return [cell(prefix + name) for name in names]

    if variables["header_media"]:
        parameters["header"] = {"link": cell(f"{HEADER_PREFIX}link")}
    elif variables["header"]:
        parameters["header"] = group(variables["header"], HEADER_PREFIX)
    if variables["body"]:
        parameters["body"] = group(variables["body"], "")
    if variables["buttons"]:
        parameters["buttons"] = [cell(f"{BUTTON_PREFIX}{b['index']}") for b in variables["buttons"]]
    return parameters


def screen(
    rows: Iterable[Row], shape: Shape, opted_out: set[str], address_of: Callable[[str], str]
) -> Iterator[Screened]:
    """Each row with the reason it cannot be sent, if any. ``opted_out``: the addresses
    refused for this campaign (on WhatsApp, empty unless it is marketing); ``address_of``:
    the channel's stored form of an address (E.164, a normalised email address), or its
    ``invalid_recipient`` error."""
    seen: set[str] = set()
    for row in rows:
        try:
            address = address_of(row.to)
        except InvalidRequestError as error:
            yield Screened(row, row.to[:320], "invalid_recipient", error.message)
            continue
        if address in seen:
            yield Screened(row, address, "duplicate_recipient", "This address is already on the list.")
            continue
        seen.add(address)
        if address in opted_out:
            yield Screened(row, address, "recipient_opted_out", "Opted out on this channel.")
            continue
        try:
            shape.check(row.parameters)
        except InvalidRequestError as error:
            yield Screened(row, address, error.code, error.message)
            continue
        yield Screened(row, address, None)
