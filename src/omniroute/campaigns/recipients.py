"""Reading a campaign's recipient list (a JSON array or a streamed CSV file) and screening
each row: a valid number, not a duplicate, not opted out of marketing, parameters that
fit the template. Shared by creating a campaign and estimating one, so both say the
same thing about the same list."""

import codecs
import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from omniroute.campaigns.schemas import RecipientIn
from omniroute.core.errors import InvalidRequestError
from omniroute.core.phone import to_e164
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


def csv_columns(variables: dict[str, Any]) -> list[str]:
    """The CSV columns a template's variables need: each body variable by its name (``1``,
    ``2``, … or ``first_name``), header variables as ``header.<name>``, a media header as
    ``header.link``, URL and code buttons as ``button.<index>``."""
    columns = [f"{HEADER_PREFIX}link"] if variables["header_media"] else []
    columns += [f"{HEADER_PREFIX}{name}" for name in variables["header"]]
    columns += list(variables["body"])
    columns += [f"{BUTTON_PREFIX}{button['index']}" for button in variables["buttons"]]
    return columns


def from_csv(file: IO[bytes], variables: dict[str, Any]) -> Iterator[Row]:
    """The rows of a CSV file read line by line (the upload stays on disk): a ``to`` column,
    one column per template variable (``csv_columns``), an optional ``reference``."""
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
    missing = [c for c in (TO_COLUMN, *csv_columns(variables)) if c not in header]
    if missing:
        raise InvalidRequestError(
            "template_parameters_mismatch",
            f"The CSV file has no column {', '.join(repr(c) for c in missing)}: it needs a 'to' column and "
            f"one per template variable ({', '.join(csv_columns(variables)) or 'none'}).",
            param="file",
            details={"expected": [TO_COLUMN, *csv_columns(variables)], "got": header},
        )
    index = {column: position for position, column in enumerate(header)}
    named = variables["format"] == "named"
    try:
        for number, cells in enumerate(reader, start=1):
            values = [cell.replace("\x00", "") for cell in cells]  # NUL cannot be stored
            if not any(v.strip() for v in values):
                continue

            def cell(column: str, values: list[str] = values) -> str:
                position = index[column]
                return values[position].strip() if position < len(values) else ""

            reference = cell(REFERENCE_COLUMN) if REFERENCE_COLUMN in index else ""
            yield Row(number, cell(TO_COLUMN), _parameters(variables, cell, named), reference[:200] or None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidRequestError(
            "csv_invalid", f"The CSV file could not be read: {exc}.", param="file"
        ) from exc


def _parameters(variables: dict[str, Any], cell: Any, named: bool) -> dict[str, Any]:
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


def screen(rows: Iterable[Row], variables: dict[str, Any], opted_out: set[str]) -> Iterator[Screened]:
    """Each row with the reason it cannot be sent, if any. ``opted_out``: the addresses
    refused for this campaign's category (empty unless it is marketing)."""
    seen: set[str] = set()
    for row in rows:
        try:
            address = to_e164(row.to)
        except InvalidRequestError as error:
            yield Screened(row, row.to[:320], "invalid_recipient", error.message)
            continue
        if address in seen:
            yield Screened(row, address, "duplicate_recipient", "This number is already on the list.")
            continue
        seen.add(address)
        if address in opted_out:
            yield Screened(row, address, "recipient_opted_out", "Opted out of marketing on this channel.")
            continue
        try:
            build_send_components(variables, row.parameters)
        except InvalidRequestError as error:
            yield Screened(row, address, error.code, error.message)
            continue
        yield Screened(row, address, None)
