"""Phone number normalisation to E.164."""

import phonenumbers

from omniroute.core.errors import InvalidRequestError


def to_e164(raw: str, *, param: str = "to", code: str = "invalid_recipient") -> str:
    """Parse a number written in any common form; it must carry its country code."""
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    elif not text.startswith("+") and text[:1].isdigit():
        text = "+" + text
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise _invalid(raw, param, code) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise _invalid(raw, param, code)
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def region_of(e164: str) -> str | None:
    """ISO country code of a number, or None when the number has no single region."""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None
    return str(region) if region and region != "ZZ" else None


def _invalid(raw: str, param: str, code: str) -> InvalidRequestError:
    return InvalidRequestError(
        code,
        f"'{raw}' is not a phone number we can parse. Give it in international form with the "
        "country code, e.g. +2348012345678.",
        param=param,
    )
