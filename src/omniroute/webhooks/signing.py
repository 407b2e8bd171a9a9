"""Standard Webhooks signatures (https://www.standardwebhooks.com/)."""

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def sign(secret: str, webhook_id: str, timestamp: int, body: str) -> str:
    """``v1,<base64 HMAC-SHA256(secret bytes, "{id}.{timestamp}.{body}")>``."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(active_secrets: list[str], webhook_id: str, timestamp: int, body: str) -> str:
    """One signature per active secret, space-separated (both during a rotation)."""
    return " ".join(sign(secret, webhook_id, timestamp, body) for secret in active_secrets)
