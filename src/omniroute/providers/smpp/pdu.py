"""SMPP 3.4 protocol data units: encoding and decoding, byte for byte.

A PDU is a 16-octet header (command_length, command_id, command_status,
sequence_number, all big-endian unsigned 32-bit) and a body of mandatory parameters in a
fixed order, followed by optional TLVs (tag u16, length u16, value). Only the
operations an ESME transceiver needs are here (SMPP 3.4 sections 4.1-4.7, 5.3).

C-Octet strings are ASCII with a terminating NUL; their maximum sizes below include the
NUL. ``short_message`` is preceded by its length (``sm_length``, one octet, at most 254).
"""

import asyncio
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Literal

HEADER = struct.Struct(">IIII")
MAX_PDU_LENGTH = 65536
"""Refuse longer PDUs: a length this large is a framing error, not a message."""


class Command(IntEnum):
    GENERIC_NACK = 0x80000000
    BIND_TRANSCEIVER = 0x00000009
    BIND_TRANSCEIVER_RESP = 0x80000009
    SUBMIT_SM = 0x00000004
    SUBMIT_SM_RESP = 0x80000004
    DELIVER_SM = 0x00000005
    DELIVER_SM_RESP = 0x80000005
    UNBIND = 0x00000006
    UNBIND_RESP = 0x80000006
    ENQUIRE_LINK = 0x00000015
    ENQUIRE_LINK_RESP = 0x80000015

    @property
    def is_response(self) -> bool:
        return bool(self & 0x80000000)

    @property
    def response(self) -> "Command":
        return Command(self | 0x80000000)


class Status(IntEnum):
    """command_status values (SMPP 3.4 section 5.1.3) this gateway acts on or sends."""

    ROK = 0x00000000
    RINVMSGLEN = 0x00000001
    RINVCMDLEN = 0x00000002
    RINVCMDID = 0x00000003
    RINVBNDSTS = 0x00000004
    RALYBND = 0x00000005
    RSYSERR = 0x00000008
    RINVSRCADR = 0x0000000A
    RINVDSTADR = 0x0000000B
    RBINDFAIL = 0x0000000D
    RINVPASWD = 0x0000000E
    RINVSYSID = 0x0000000F
    RMSGQFUL = 0x00000014
    RSUBMITFAIL = 0x00000045
    RTHROTTLED = 0x00000058
    RUNKNOWNERR = 0x000000FF


def status_name(status: int) -> str:
    try:
        return f"ESME_{Status(status).name}"
    except ValueError:
        return f"0x{status:08X}"


class Tag(IntEnum):
    """Optional parameter tags (SMPP 3.4 section 5.3.2) this gateway reads or writes."""

    RECEIPTED_MESSAGE_ID = 0x001E
    SAR_MSG_REF_NUM = 0x020C
    SAR_TOTAL_SEGMENTS = 0x020E
    SAR_SEGMENT_SEQNUM = 0x020F
    SC_INTERFACE_VERSION = 0x0210
    NETWORK_ERROR_CODE = 0x0423
    MESSAGE_PAYLOAD = 0x0424
    MESSAGE_STATE = 0x0427


class MessageState(IntEnum):
    """``message_state`` TLV values (SMPP 3.4 section 5.2.28)."""

    ENROUTE = 1
    DELIVERED = 2
    EXPIRED = 3
    DELETED = 4
    UNDELIVERABLE = 5
    ACCEPTED = 6
    UNKNOWN = 7
    REJECTED = 8


ESM_CLASS_UDHI = 0x40
"""esm_class bit: the short message starts with a user data header."""
ESM_CLASS_DELIVERY_RECEIPT = 0x04
"""esm_class message type bits of a deliver_sm that is an SMSC delivery receipt."""
INTERFACE_VERSION = 0x34

Kind = Literal["u8", "cstr", "sm"]

_SM_FIELDS: tuple[tuple[str, Kind, int], ...] = (
    ("service_type", "cstr", 6),
    ("source_addr_ton", "u8", 0),
    ("source_addr_npi", "u8", 0),
    ("source_addr", "cstr", 21),
    ("dest_addr_ton", "u8", 0),
    ("dest_addr_npi", "u8", 0),
    ("destination_addr", "cstr", 21),
    ("esm_class", "u8", 0),
    ("protocol_id", "u8", 0),
    ("priority_flag", "u8", 0),
    ("schedule_delivery_time", "cstr", 17),
    ("validity_period", "cstr", 17),
    ("registered_delivery", "u8", 0),
    ("replace_if_present_flag", "u8", 0),
    ("data_coding", "u8", 0),
    ("sm_default_msg_id", "u8", 0),
    ("short_message", "sm", 254),
)

BODIES: dict[Command, tuple[tuple[str, Kind, int], ...]] = {
    Command.BIND_TRANSCEIVER: (
        ("system_id", "cstr", 16),
        ("password", "cstr", 9),
        ("system_type", "cstr", 13),
        ("interface_version", "u8", 0),
        ("addr_ton", "u8", 0),
        ("addr_npi", "u8", 0),
        ("address_range", "cstr", 41),
    ),
    Command.BIND_TRANSCEIVER_RESP: (("system_id", "cstr", 16),),
    Command.SUBMIT_SM: _SM_FIELDS,
    Command.SUBMIT_SM_RESP: (("message_id", "cstr", 65),),
    Command.DELIVER_SM: _SM_FIELDS,
    Command.DELIVER_SM_RESP: (("message_id", "cstr", 65),),
}
"""Mandatory parameters per command, in wire order: (name, kind, maximum size)."""

_TLV_INTS: dict[int, int] = {
    Tag.SAR_MSG_REF_NUM: 2,
    Tag.SAR_TOTAL_SEGMENTS: 1,
    Tag.SAR_SEGMENT_SEQNUM: 1,
    Tag.SC_INTERFACE_VERSION: 1,
    Tag.MESSAGE_STATE: 1,
}
"""TLVs whose value is an unsigned integer, with its size in octets."""


class PduError(ValueError):
    """A PDU that cannot be encoded or decoded; ``status`` is the error to answer with."""

    def __init__(self, message: str, status: Status = Status.RSYSERR) -> None:
        super().__init__(message)
        self.status = status
        self.sequence: int | None = None
        """The sequence number of the PDU, when its header could be read."""


@dataclass
class Pdu:
    command: Command
    sequence: int
    status: int = Status.ROK
    params: dict[str, Any] = field(default_factory=dict)
    """Mandatory parameters by name; a missing one is encoded as 0 or empty."""
    tlvs: dict[int, bytes] = field(default_factory=dict)
    """Optional parameters, raw; ``tlv_int``/``tlv_str`` read them."""

    def __getitem__(self, name: str) -> Any:
        return self.params.get(name, _default(name, self.command))

    def tlv_int(self, tag: Tag) -> int | None:
        value = self.tlvs.get(tag)
        return int.from_bytes(value, "big") if value is not None else None

    def tlv_str(self, tag: Tag) -> str | None:
        value = self.tlvs.get(tag)
        return value.rstrip(b"\x00").decode("ascii", errors="replace") if value is not None else None

    def response(self, status: int = Status.ROK, **params: Any) -> "Pdu":
        """The response to this request, with the same sequence number."""
        return Pdu(self.command.response, self.sequence, status, params)


def _default(name: str, command: Command) -> Any:
    for field_name, kind, _ in BODIES.get(command, ()):
        if field_name == name:
            return 0 if kind == "u8" else ("" if kind == "cstr" else b"")
    raise KeyError(name)


def tlv(tag: Tag, value: int | str | bytes) -> tuple[int, bytes]:
    """One TLV, its value in the wire form for its tag (integers at their size, the
    receipted message id as a C-Octet string)."""
    if isinstance(value, int):
        return tag, value.to_bytes(_TLV_INTS[tag], "big")
    if isinstance(value, str):
        return tag, value.encode("ascii") + b"\x00"
    return tag, value


def encode(pdu: Pdu) -> bytes:
    body = bytearray()
    spec = BODIES.get(pdu.command, ())
    # A negative response carries no body (SMPP 3.4 section 3.3); a generic_nack never does.
    if not (pdu.command.is_response and pdu.status != Status.ROK):
        for name, kind, size in spec:
            value = pdu.params.get(name, _default(name, pdu.command))
            if kind == "u8":
                if not 0 <= int(value) <= 0xFF:
                    raise PduError(f"{name} must fit in one octet, got {value!r}")
                body.append(int(value))
            elif kind == "cstr":
                raw = str(value).encode("ascii")
                if len(raw) + 1 > size or b"\x00" in raw:
                    raise PduError(f"{name} must be ASCII of at most {size - 1} characters, got {value!r}")
                body += raw + b"\x00"
            else:
                raw = bytes(value)
                if len(raw) > size:
                    raise PduError(f"{name} is {len(raw)} octets; at most {size}", Status.RINVMSGLEN)
                body.append(len(raw))
                body += raw
        for tag, value in pdu.tlvs.items():
            body += struct.pack(">HH", tag, len(value)) + value
    return HEADER.pack(HEADER.size + len(body), pdu.command, pdu.status, pdu.sequence) + bytes(body)


def decode_header(data: bytes) -> tuple[int, int, int, int]:
    """(command_length, command_id, command_status, sequence_number), length checked."""
    length, command_id, status, sequence = HEADER.unpack(data[: HEADER.size])
    if not HEADER.size <= length <= MAX_PDU_LENGTH:
        raise PduError(f"command_length {length} is out of range", Status.RINVCMDLEN)
    return length, command_id, status, sequence


def decode(data: bytes) -> Pdu:
    """One whole PDU (header included). Unknown commands raise ``PduError`` with
    ``RINVCMDID`` so the caller can answer generic_nack."""
    if len(data) < HEADER.size:
        raise PduError("shorter than a PDU header", Status.RINVCMDLEN)
    length, command_id, status, sequence = decode_header(data)
    if length != len(data):
        raise PduError(f"command_length {length} but {len(data)} octets", Status.RINVCMDLEN)
    try:
        command = Command(command_id)
    except ValueError:
        raise PduError(f"unknown command_id 0x{command_id:08X}", Status.RINVCMDID) from None
    pdu = Pdu(command, sequence, status)
    body = data[HEADER.size :]
    offset = 0
    if body:
        for name, kind, size in BODIES.get(command, ()):
            if kind == "u8":
                _need(body, offset, 1, name)
                pdu.params[name] = body[offset]
                offset += 1
            elif kind == "cstr":
                end = body.find(b"\x00", offset, offset + size)
                if end < 0:
                    raise PduError(f"{name} is not a NUL-terminated string of at most {size} octets")
                pdu.params[name] = body[offset:end].decode("ascii", errors="replace")
                offset = end + 1
            else:
                _need(body, offset, 1, "sm_length")
                sm_length = body[offset]
                _need(body, offset + 1, sm_length, name)
                pdu.params[name] = bytes(body[offset + 1 : offset + 1 + sm_length])
                offset += 1 + sm_length
    while offset < len(body):
        _need(body, offset, 4, "TLV header")
        tag, size = struct.unpack_from(">HH", body, offset)
        _need(body, offset + 4, size, f"TLV 0x{tag:04X}")
        pdu.tlvs[tag] = bytes(body[offset + 4 : offset + 4 + size])
        offset += 4 + size
    return pdu


def _need(body: bytes, offset: int, size: int, what: str) -> None:
    if offset + size > len(body):
        raise PduError(f"{what} runs past the end of the PDU", Status.RINVCMDLEN)


def concat_udh(reference: int, total: int, seqnum: int) -> bytes:
    """The 6-octet user data header of one part of a concatenated message (IEI 0x00,
    8-bit reference number)."""
    return bytes([0x05, 0x00, 0x03, reference & 0xFF, total, seqnum])


def strip_udh(short_message: bytes) -> tuple[bytes, tuple[int, int, int] | None]:
    """The text octets of a message with the UDHI bit set, and its concatenation
    (reference, total, seqnum) if the header has one (8- or 16-bit reference)."""
    if not short_message:
        return short_message, None
    header_length = short_message[0]
    header = short_message[1 : 1 + header_length]
    concat: tuple[int, int, int] | None = None
    i = 0
    while i + 2 <= len(header):
        iei, size = header[i], header[i + 1]
        value = header[i + 2 : i + 2 + size]
        if iei == 0x00 and size == 3:
            concat = (value[0], value[1], value[2])
        elif iei == 0x08 and size == 4:
            concat = (int.from_bytes(value[:2], "big"), value[2], value[3])
        i += 2 + size
    return short_message[1 + header_length :], concat


_RECEIPT_FIELD = re.compile(
    r"(id|sub|dlvrd|submit date|done date|stat|err):(\S*)|text:(.*)$", re.IGNORECASE | re.DOTALL
)


def parse_receipt_text(text: str) -> dict[str, str]:
    """The fields of a delivery receipt's text form (SMPP 3.4 Appendix B):
    ``id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm
    stat:DDDDDDD err:E text:...``, keys lower-cased; absent fields are absent."""
    fields: dict[str, str] = {}
    for match in _RECEIPT_FIELD.finditer(text):
        if match.group(3) is not None:
            fields["text"] = match.group(3)
        else:
            fields[match.group(1).lower()] = match.group(2)
    return fields


def receipt_text(fields: Mapping[str, str]) -> str:
    """The text form of a delivery receipt from its fields (the simulator sends it)."""
    order = ("id", "sub", "dlvrd", "submit date", "done date", "stat", "err", "text")
    return " ".join(f"{key}:{fields[key]}" for key in order if key in fields)


async def read_pdu(reader: asyncio.StreamReader) -> Pdu:
    """The next whole PDU from a stream (``asyncio.IncompleteReadError`` at its end); a
    ``PduError`` carries the sequence number when the header could be read."""
    head = await reader.readexactly(HEADER.size)
    length, _, _, sequence = decode_header(head)
    body = await reader.readexactly(length - HEADER.size)
    try:
        return decode(head + body)
    except PduError as exc:
        exc.sequence = sequence
        raise
