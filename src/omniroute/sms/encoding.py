"""How an SMS text travels: the GSM 03.38 default alphabet (7-bit, with the extension
table) when every character is in it, UCS-2 otherwise; and how many segments it takes.

A single SMS carries 160 GSM-7 septets or 70 UCS-2 code units. A longer text is sent as
concatenated parts: the 6-octet user data header (UDH) leaves 153 septets or 67 code
units per part. An extension character (``€ [ ] { } | ~ ^ \\`` and form feed) is an
escape (0x1B) plus a second septet, so it counts 2 and is never split across parts; a
character outside the Basic Multilingual Plane (an emoji) is a UTF-16 surrogate pair, 2
code units, never split either.

On SMPP the GSM-7 text goes as one octet per septet (``data_coding`` 0, unpacked) and
UCS-2 as UTF-16 big-endian (``data_coding`` 8).
"""

from dataclasses import dataclass
from enum import StrEnum


class Encoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


DATA_CODING = {Encoding.GSM7: 0x00, Encoding.UCS2: 0x08}
"""SMPP ``data_coding`` per encoding: 0 the SMSC default alphabet (GSM-7), 8 UCS-2."""

SINGLE_LIMIT = {Encoding.GSM7: 160, Encoding.UCS2: 70}
PART_LIMIT = {Encoding.GSM7: 153, Encoding.UCS2: 67}
"""Septets or UTF-16 code units per part once a 6-octet concatenation header is needed."""

ESCAPE = 0x1B

_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
assert len(_BASIC) == 128
GSM_BASIC: dict[str, int] = {char: code for code, char in enumerate(_BASIC) if code != ESCAPE}
GSM_EXTENSION: dict[str, int] = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}
_BASIC_BY_CODE = {code: char for char, code in GSM_BASIC.items()}
_EXTENSION_BY_CODE = {code: char for char, code in GSM_EXTENSION.items()}


@dataclass(frozen=True)
class SmsShape:
    """What the message resource shows as ``sms``, plus the units counted."""

    encoding: Encoding
    segments: int
    units: int
    """Septets (GSM-7) or UTF-16 code units (UCS-2) of the whole text."""

    def as_dict(self) -> dict[str, object]:
        return {"encoding": self.encoding.value, "segments": self.segments}


def encoding_of(text: str) -> Encoding:
    return Encoding.GSM7 if all(c in GSM_BASIC or c in GSM_EXTENSION for c in text) else Encoding.UCS2


def _units(text: str, encoding: Encoding) -> list[bytes]:
    """Each character as its encoded bytes (never split across parts)."""
    if encoding is Encoding.GSM7:
        return [bytes([GSM_BASIC[c]]) if c in GSM_BASIC else bytes([ESCAPE, GSM_EXTENSION[c]]) for c in text]
    return [c.encode("utf-16-be") for c in text]


def _width(unit: bytes, encoding: Encoding) -> int:
    """Septets or UTF-16 code units one character takes."""
    return len(unit) if encoding is Encoding.GSM7 else len(unit) // 2


def split(text: str) -> tuple[Encoding, list[bytes]]:
    """The text encoded for SMPP, as one part or as the payloads of concatenated parts
    (without their UDH)."""
    encoding = encoding_of(text)
    units = _units(text, encoding)
    total = sum(_width(u, encoding) for u in units)
    if total <= SINGLE_LIMIT[encoding]:
        return encoding, [b"".join(units)]
    parts: list[bytes] = []
    current: list[bytes] = []
    used = 0
    for unit in units:
        width = _width(unit, encoding)
        if used + width > PART_LIMIT[encoding]:
            parts.append(b"".join(current))
            current, used = [], 0
        current.append(unit)
        used += width
    parts.append(b"".join(current))
    return encoding, parts


def shape(text: str) -> SmsShape:
    encoding, parts = split(text)
    units = sum(len(part) for part in parts) // (1 if encoding is Encoding.GSM7 else 2)
    return SmsShape(encoding, len(parts), units)


def decode(data: bytes, data_coding: int) -> str:
    """A short message's text as an SMSC sends it (mobile-originated or a receipt):
    0 GSM-7 unpacked (SMSC default), 1 IA5/ASCII, 3 Latin-1, 8 UCS-2; anything else is
    read as Latin-1 rather than refused."""
    coding = data_coding
    if coding == 0x08:
        return data.decode("utf-16-be", errors="replace")
    if coding == 0x00:
        chars: list[str] = []
        escaped = False
        for octet in data:
            if escaped:
                chars.append(_EXTENSION_BY_CODE.get(octet, " "))
                escaped = False
            elif octet == ESCAPE:
                escaped = True
            else:
                chars.append(_BASIC_BY_CODE.get(octet & 0x7F, "?"))
        return "".join(chars)
    if coding == 0x01:
        return data.decode("ascii", errors="replace")
    return data.decode("latin-1")
