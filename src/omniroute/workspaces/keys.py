"""API key format and hashing. Keys are 256-bit random strings, so a single SHA-256
is the right hash: there is nothing to brute-force, and lookup stays one index probe."""

import hashlib
import secrets
import string

from omniroute.core.tenancy import Mode

_BASE62 = string.digits + string.ascii_letters
_RANDOM_LENGTH = 43  # 43 base62 characters carry 256 bits
PREFIX_SHOWN = 12


def generate(mode: Mode) -> str:
    return f"or_{mode.value}_" + "".join(secrets.choice(_BASE62) for _ in range(_RANDOM_LENGTH))


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def mode_of(raw: str) -> Mode | None:
    for mode in Mode:
        if raw.startswith(f"or_{mode.value}_"):
            return mode
    return None


def shown_prefix(raw: str) -> str:
    return raw[: len("or_test_") + 4] if raw.startswith("or_") else raw[:PREFIX_SHOWN]
