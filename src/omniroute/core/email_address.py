"""Email addresses: checked for syntax with ``email-validator`` (never a DNS lookup:
whether a domain receives mail is the relay's business, and a lookup per request would
put the resolver on the request path) and stored normalised (the domain lowercased and
IDNA-decoded; the local part as given, since only the receiving server may interpret it)."""

from email_validator import EmailNotValidError, validate_email

from omniroute.core.errors import InvalidRequestError


def has_line_break(value: str) -> bool:
    """A CR or LF in a header value would start a new header (header injection)."""
    return "\r" in value or "\n" in value


def validated(raw: str) -> str:
    """The normalised address; ``EmailNotValidError`` saying why it is not one."""
    if has_line_break(raw):
        raise EmailNotValidError("An email address cannot contain a line break.")
    return str(validate_email(raw.strip(), check_deliverability=False).normalized)


def normalize(raw: str, *, param: str) -> str:
    """The address as stored; a 422 ``invalid_recipient`` naming ``param`` otherwise."""
    try:
        return validated(raw)
    except EmailNotValidError as exc:
        raise InvalidRequestError(
            "invalid_recipient", f"'{raw}' is not an email address: {exc}", param=param
        ) from exc


def domain_of(address: str) -> str:
    return address.rpartition("@")[2]
