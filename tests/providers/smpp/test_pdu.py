"""The SMPP 3.4 codec, byte for byte: hand-computed PDUs from the specification's layout,
and a cross-check against an independent codec (python-smpplib, a test dependency)."""

import pytest
from smpplib import consts as smpplib_consts
from smpplib import smpp as smpplib

from omniroute.providers.smpp.pdu import (
    ESM_CLASS_UDHI,
    Command,
    Pdu,
    PduError,
    Status,
    Tag,
    concat_udh,
    decode,
    encode,
    parse_receipt_text,
    receipt_text,
    strip_udh,
    tlv,
)


def test_enquire_link_is_a_bare_header() -> None:
    pdu = Pdu(Command.ENQUIRE_LINK, 1)
    assert encode(pdu) == bytes.fromhex("00000010 00000015 00000000 00000001")
    assert encode(pdu.response()) == bytes.fromhex("00000010 80000015 00000000 00000001")


def test_bind_transceiver_by_hand() -> None:
    pdu = Pdu(
        Command.BIND_TRANSCEIVER,
        7,
        params={"system_id": "esme", "password": "secret", "interface_version": 0x34},
    )
    expected = (
        bytes.fromhex("00000021 00000009 00000000 00000007")  # 33 octets
        + b"esme\x00"
        + b"secret\x00"
        + b"\x00"  # system_type
        + bytes([0x34, 0x00, 0x00])  # interface_version, addr_ton, addr_npi
        + b"\x00"  # address_range
    )
    assert encode(pdu) == expected
    assert decode(expected) == Pdu(
        Command.BIND_TRANSCEIVER,
        7,
        params={
            "system_id": "esme",
            "password": "secret",
            "system_type": "",
            "interface_version": 0x34,
            "addr_ton": 0,
            "addr_npi": 0,
            "address_range": "",
        },
    )


def test_submit_sm_with_sar_tlvs_by_hand() -> None:
    pdu = Pdu(
        Command.SUBMIT_SM,
        2,
        params={
            "source_addr_ton": 5,
            "source_addr": "ACME",
            "dest_addr_ton": 1,
            "dest_addr_npi": 1,
            "destination_addr": "447700900123",
            "registered_delivery": 1,
            "short_message": b"Hi",
        },
        tlvs=dict([tlv(Tag.SAR_MSG_REF_NUM, 0x0102), tlv(Tag.SAR_TOTAL_SEGMENTS, 2)]),
    )
    body = (
        b"\x00"  # service_type
        + bytes([5, 0])
        + b"ACME\x00"
        + bytes([1, 1])
        + b"447700900123\x00"
        + bytes([0, 0, 0])  # esm_class, protocol_id, priority_flag
        + b"\x00\x00"  # schedule_delivery_time, validity_period
        + bytes([1, 0, 0, 0])  # registered_delivery, replace_if_present, data_coding, sm_default_msg_id
        + bytes([2])
        + b"Hi"
        + bytes.fromhex("020C 0002 0102")
        + bytes.fromhex("020E 0001 02")
    )
    wire = encode(pdu)
    assert wire == (16 + len(body)).to_bytes(4, "big") + bytes.fromhex("00000004 00000000 00000002") + body
    back = decode(wire)
    assert back["destination_addr"] == "447700900123"
    assert back["short_message"] == b"Hi"
    assert back.tlv_int(Tag.SAR_MSG_REF_NUM) == 0x0102
    assert back.tlv_int(Tag.SAR_TOTAL_SEGMENTS) == 2


def test_a_negative_response_has_no_body() -> None:
    pdu = Pdu(Command.SUBMIT_SM, 9).response(Status.RTHROTTLED, message_id="ignored")
    assert encode(pdu) == bytes.fromhex("00000010 80000004 00000058 00000009")
    assert decode(encode(pdu)).status == Status.RTHROTTLED


def test_submit_sm_resp_and_generic_nack() -> None:
    assert encode(Pdu(Command.SUBMIT_SM_RESP, 3, params={"message_id": "abc"})) == bytes.fromhex(
        "00000014 80000004 00000000 00000003 61626300"
    )
    nack = Pdu(Command.GENERIC_NACK, 4, Status.RINVCMDID)
    assert encode(nack) == bytes.fromhex("00000010 80000000 00000003 00000004")


def test_decode_refuses_malformed_pdus() -> None:
    with pytest.raises(PduError) as unknown:
        decode(bytes.fromhex("00000010 00000099 00000000 00000001"))
    assert unknown.value.status == Status.RINVCMDID
    with pytest.raises(PduError):
        decode(bytes.fromhex("00000011 00000015 00000000 00000001"))  # length says 17
    with pytest.raises(PduError):
        decode(bytes.fromhex("00000010 000000"))  # shorter than a header
    # sm_length says 3 but two octets follow (command_length adjusted to match):
    truncated = encode(Pdu(Command.SUBMIT_SM, 1, params={"short_message": b"abc"}))[:-2]
    with pytest.raises(PduError):
        decode(len(truncated).to_bytes(4, "big") + truncated[4:])


def test_encode_refuses_oversized_fields() -> None:
    with pytest.raises(PduError):
        encode(Pdu(Command.SUBMIT_SM, 1, params={"source_addr": "x" * 21}))
    with pytest.raises(PduError):
        encode(Pdu(Command.SUBMIT_SM, 1, params={"short_message": b"x" * 255}))


def test_udh_concatenation() -> None:
    udh = concat_udh(0x1FF, 3, 2)
    assert udh == bytes.fromhex("050003 FF 03 02")
    assert strip_udh(udh + b"text") == (b"text", (0xFF, 3, 2))
    assert strip_udh(bytes.fromhex("06080400AB0201") + b"x") == (b"x", (0xAB, 2, 1))


def test_receipt_text_round_trip() -> None:
    text = (
        "id:0123456789 sub:001 dlvrd:001 submit date:2512011200 done date:2512011201 "
        "stat:DELIVRD err:000 text:Hello world"
    )
    fields = parse_receipt_text(text)
    assert fields == {
        "id": "0123456789",
        "sub": "001",
        "dlvrd": "001",
        "submit date": "2512011200",
        "done date": "2512011201",
        "stat": "DELIVRD",
        "err": "000",
        "text": "Hello world",
    }
    assert receipt_text(fields) == text


# --- cross-check against python-smpplib -------------------------------------------


class _Sequence:
    """What smpplib asks its client for: the sequence number of a PDU it builds."""

    def __init__(self, number: int) -> None:
        self.sequence = number

    def next_sequence(self) -> int:
        return self.sequence


def test_our_submit_sm_parses_in_smpplib() -> None:
    ours = Pdu(
        Command.SUBMIT_SM,
        42,
        params={
            "source_addr_ton": 1,
            "source_addr_npi": 1,
            "source_addr": "15550001111",
            "dest_addr_ton": 1,
            "dest_addr_npi": 1,
            "destination_addr": "2348012345678",
            "esm_class": ESM_CLASS_UDHI,
            "registered_delivery": 1,
            "data_coding": 8,
            "short_message": concat_udh(7, 2, 1) + "Привет".encode("utf-16-be"),
        },
    )
    theirs = smpplib.parse_pdu(encode(ours), client=_Sequence(0))
    assert theirs.command == "submit_sm"
    assert theirs.sequence == 42
    assert theirs.source_addr == b"15550001111"
    assert theirs.destination_addr == b"2348012345678"
    assert theirs.esm_class == ESM_CLASS_UDHI
    assert theirs.data_coding == 8
    assert theirs.short_message == concat_udh(7, 2, 1) + "Привет".encode("utf-16-be")


def test_smpplib_pdus_decode_in_ours() -> None:
    bind = smpplib.make_pdu(
        "bind_transceiver", client=_Sequence(5), system_id="esme", password="pw", system_type="OTP"
    )
    ours = decode(bind.generate())
    assert (ours.command, ours.sequence) == (Command.BIND_TRANSCEIVER, 5)
    assert ours["system_id"] == "esme" and ours["password"] == "pw" and ours["system_type"] == "OTP"
    assert encode(ours) == bind.generate()

    receipt = smpplib.make_pdu(
        "deliver_sm",
        client=_Sequence(6),
        source_addr="2348012345678",
        destination_addr="ACME",
        esm_class=0x04,
        short_message=b"id:abc stat:DELIVRD err:000",
        receipted_message_id="abc",
        message_state=smpplib_consts.SMPP_MESSAGE_STATE_DELIVERED,
    )
    ours = decode(receipt.generate())
    assert ours.command is Command.DELIVER_SM
    assert ours["esm_class"] == 0x04
    assert ours["short_message"] == b"id:abc stat:DELIVRD err:000"
    assert ours.tlv_str(Tag.RECEIPTED_MESSAGE_ID) == "abc"
    assert ours.tlv_int(Tag.MESSAGE_STATE) == 2
    assert encode(ours) == receipt.generate()


@pytest.mark.parametrize(
    ("command", "status"),
    [("enquire_link", 0), ("unbind", 0), ("unbind_resp", 0), ("enquire_link_resp", 0), ("generic_nack", 3)],
)
def test_bare_pdus_match_smpplib(command: str, status: int) -> None:
    theirs = smpplib.make_pdu(command, client=_Sequence(11), status=status)
    ours = decode(theirs.generate())
    assert ours.command.name.lower() == command
    assert encode(Pdu(ours.command, 11, status)) == theirs.generate()
