"""Channel secrets at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from the
``cryptography`` package) under the key(s) in ``OMNIROUTE_SECRET_KEY``.

The setting is a comma-separated list: the first key encrypts, every key decrypts
(``MultiFernet``), so a key is rotated by putting a new one first, running
``omniroute secrets rotate`` (which re-encrypts every stored secret with it) and then
dropping the old one. Without the setting, the key is read from ``data/secret.key``,
which ``omniroute serve`` creates (mode 0600) on first start for the embedded set-up.

``EncryptedConfig`` is the column type of a config that holds secrets: the keys named
in ``SECRET_KEYS`` are stored as ``fernet:<token>``, everything else as plain JSON, and
code above the database only ever sees plaintext."""

import hashlib
import hmac
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from omniroute.config import Settings, get_settings
from omniroute.core.db import JSONType

SECRET_KEYS = frozenset(
    {
        "access_token",
        "app_secret",
        "verify_token",
        "password",
        "api_key",
        "auth_token",
        "secret",
        "vapid_private_key",
    }
)
"""Config keys whose values are secrets (encrypted at rest, masked in responses)."""

PREFIX = "fernet:"
KEY_FILE = Path("data") / "secret.key"


class SecretKeyMissing(RuntimeError):
    """No key to encrypt or decrypt channel secrets with."""


def configured_keys(settings: Settings) -> list[str]:
    """The keys in force: ``OMNIROUTE_SECRET_KEY``, else the key file."""
    if settings.secret_key:
        return [key.strip() for key in settings.secret_key.split(",") if key.strip()]
    if KEY_FILE.exists():
        return [KEY_FILE.read_text().strip()]
    return []


def ensure_key_file(settings: Settings) -> Path | None:
    """For ``serve`` without ``OMNIROUTE_SECRET_KEY``: create ``data/secret.key`` (mode
    0600) once; returns its path when it was created."""
    if settings.secret_key or KEY_FILE.exists():
        return None
    KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(Fernet.generate_key().decode() + "\n")
    return KEY_FILE


class Keyring:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise SecretKeyMissing(
                "channel secrets need a key: set OMNIROUTE_SECRET_KEY (generate one with "
                "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`) "
                f"or run `omniroute serve` once to create {KEY_FILE}"
            )
        self._keys = keys
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError as exc:
            raise SecretKeyMissing(
                f"OMNIROUTE_SECRET_KEY holds a key that is not a Fernet key ({exc})"
            ) from exc

    def digests(self, value: str) -> list[str]:
        """HMAC-SHA256 of ``value`` under each key, the first key's first: a keyed hash for
        what is compared but never read back (one-time codes). Store the first; compare
        against all, so a rotation does not invalidate what was hashed just before it."""
        return [hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest() for key in self._keys]

    def encrypt(self, value: str) -> str:
        return PREFIX + self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, stored: str) -> str:
        """The plaintext of a stored value; a value stored before encryption (no prefix)
        is returned as it is."""
        if not stored.startswith(PREFIX):
            return stored
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken as exc:
            raise SecretKeyMissing(
                "a stored channel secret cannot be decrypted with the configured keys"
            ) from exc

    def decrypt_recent(self, stored: str, max_age_seconds: int) -> str | None:
        """The plaintext of a value this keyring encrypted within ``max_age_seconds``; None
        when it is older, altered, or from other keys (a dashboard session cookie)."""
        try:
            return self._fernet.decrypt(stored.removeprefix(PREFIX).encode(), ttl=max_age_seconds).decode()
        except InvalidToken:
            return None

    def seal(self, config: dict[str, Any]) -> dict[str, Any]:
        """The config as stored: secret values encrypted with the first key."""
        return {
            key: self.encrypt(value) if key in SECRET_KEYS and isinstance(value, str) else value
            for key, value in config.items()
        }

    def open(self, config: dict[str, Any]) -> dict[str, Any]:
        return {
            key: self.decrypt(value) if key in SECRET_KEYS and isinstance(value, str) else value
            for key, value in config.items()
        }


_keyring: Keyring | None = None


def configure(settings: Settings) -> None:
    """Use ``settings``' keys from now on (called when the services are built). Settings
    without a key leave the keys in force alone (one process, one set of keys)."""
    global _keyring
    keys = configured_keys(settings)
    if keys:
        _keyring = Keyring(keys)


def keyring() -> Keyring:
    if _keyring is None:
        return Keyring(configured_keys(get_settings()))
    return _keyring


class EncryptedConfig(TypeDecorator[dict[str, Any]]):
    """A JSON config whose secret values are encrypted in the database."""

    impl = JSONType
    cache_ok = True

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Dialect) -> dict[str, Any] | None:
        if not value or not SECRET_KEYS & value.keys():
            return value
        return keyring().seal(value)

    def process_result_value(self, value: dict[str, Any] | None, dialect: Dialect) -> dict[str, Any] | None:
        if not value or not SECRET_KEYS & value.keys():
            return value
        return keyring().open(value)
