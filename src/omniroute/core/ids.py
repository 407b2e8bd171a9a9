"""Prefixed identifiers that sort by creation time (``msg_01j9...``).

48 bits of milliseconds followed by 80 random bits, written in lowercase Crockford
base32 so byte order, PostgreSQL collation order and creation order agree.
"""

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_LENGTH = 26  # 130 bits of room for 128 bits of id


def _encode(value: int) -> str:
    chars = []
    for _ in range(_LENGTH):
        value, index = divmod(value, 32)
        chars.append(_ALPHABET[index])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    millis = int(time.time() * 1000)
    return f"{prefix}_{_encode((millis << 80) | secrets.randbits(80))}"


PREFIXES = {
    "workspace": "ws",
    "api_key": "key",
    "channel": "ch",
    "contact": "ct",
    "conversation": "cv",
    "template": "tpl",
    "message": "msg",
    "campaign": "cmp",
    "verification": "otp",
    "webhook_endpoint": "we",
    "event": "evt",
    "request": "req",
    "job": "job",
}
