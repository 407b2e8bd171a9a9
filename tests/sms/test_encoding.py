"""GSM-7 vs UCS-2 and segment counting, at every boundary the networks use."""

import pytest

from omniroute.sms.encoding import Encoding, decode, shape, split


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("a" * 160, Encoding.GSM7, 1),
        ("a" * 161, Encoding.GSM7, 2),
        ("a" * 306, Encoding.GSM7, 2),  # two parts of 153
        ("a" * 307, Encoding.GSM7, 3),
        ("€" * 80, Encoding.GSM7, 1),  # 80 extension characters = 160 septets
        ("€" * 80 + "a", Encoding.GSM7, 2),
        ("é" * 160, Encoding.GSM7, 1),  # in the basic table: one septet each
        ("ж" * 70, Encoding.UCS2, 1),
        ("ж" * 71, Encoding.UCS2, 2),
        ("ж" * 134, Encoding.UCS2, 2),  # two parts of 67
        ("ж" * 135, Encoding.UCS2, 3),
        ("😀" * 35, Encoding.UCS2, 1),  # an emoji is 2 UTF-16 code units
        ("😀" * 35 + "a", Encoding.UCS2, 2),
        ("", Encoding.GSM7, 1),
    ],
)
def test_encoding_and_segments(text: str, encoding: Encoding, segments: int) -> None:
    got = shape(text)
    assert (got.encoding, got.segments) == (encoding, segments)
    assert got.as_dict() == {"encoding": encoding.value, "segments": segments}


def test_one_character_outside_gsm_makes_the_whole_text_ucs2() -> None:
    assert shape("a" * 100 + "ç").encoding is Encoding.UCS2  # lower-case ç is not GSM (Ç is)
    assert shape("a" * 100 + "ç").segments == 2


def test_extension_characters_count_two_septets() -> None:
    assert shape("[]{}|~^\\€\f").units == 20


def test_153_and_154_septets_of_a_long_text_fill_parts_exactly() -> None:
    _, parts = split("a" * 153 + "b" * 153 + "c")
    assert [len(p) for p in parts] == [153, 153, 1]
    _, parts = split("a" * 154 + "b" * 10)
    assert [len(p) for p in parts] == [153, 11]


def test_an_escape_is_never_split_across_parts() -> None:
    # 152 septets then '€' (2 septets): the escape would straddle the boundary, so '€'
    # opens part 2 and part 1 carries 152 septets.
    encoding, parts = split("a" * 152 + "€" + "b" * 20)
    assert encoding is Encoding.GSM7
    assert len(parts[0]) == 152
    assert parts[1][:2] == bytes([0x1B, 0x65])
    assert all(part[-1] != 0x1B for part in parts)


def test_a_surrogate_pair_is_never_split_across_parts() -> None:
    encoding, parts = split("ж" * 66 + "😀" + "ж" * 10)
    assert encoding is Encoding.UCS2
    assert len(parts[0]) == 66 * 2  # the emoji would be units 67 and 68: it moves to part 2
    assert parts[1][:4] == "😀".encode("utf-16-be")
    assert "".join(decode(p, 8) for p in parts) == "ж" * 66 + "😀" + "ж" * 10


def test_gsm_octets_are_the_default_alphabet_unpacked() -> None:
    encoding, parts = split("@£ Hi €")
    assert encoding is Encoding.GSM7
    assert parts == [bytes([0x00, 0x01, 0x20, 0x48, 0x69, 0x20, 0x1B, 0x65])]


@pytest.mark.parametrize("text", ["Hello [world] {€} ~|^\\ ÄÖÑÜ§¿", "Привет 😀", "x" * 400 + "€"])
def test_decode_reverses_split(text: str) -> None:
    encoding, parts = split(text)
    coding = 0 if encoding is Encoding.GSM7 else 8
    assert "".join(decode(part, coding) for part in parts) == text


def test_decode_other_codings() -> None:
    assert decode(b"STOP", 1) == "STOP"
    assert decode("café".encode("latin-1"), 3) == "café"
