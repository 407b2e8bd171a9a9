"""The Web Push codec (RFC 8030 delivery, RFC 8291 aes128gcm payload encryption, RFC 8292
VAPID), kept apart from any transport: a channel's VAPID key pair, and the HTTP request
(headers and encrypted body) that pushes one payload to one browser subscription.

Encryption is pywebpush's (which uses http-ece), the VAPID JWT py-vapid's; the request
itself is sent by the caller on its own guarded session."""

import base64
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from pywebpush import WebPusher

VAPID_TOKEN_SECONDS = 12 * 3600
"""A VAPID JWT is valid for at most 24 h (RFC 8292 §2); ours for 12."""
DEFAULT_TTL_SECONDS = 24 * 3600
"""How long the push service keeps a notification for a browser that is offline."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class VapidKeys:
    public_key: str
    """The uncompressed P-256 point, base64url: the browser's ``applicationServerKey``."""
    private_key: str
    """The private scalar (32 bytes), base64url: a secret, stored encrypted."""


def generate_vapid_keys() -> VapidKeys:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    private = key.private_numbers().private_value.to_bytes(32, "big")
    return VapidKeys(public_key=b64url(public), private_key=b64url(private))


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str

    def info(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


@dataclass(frozen=True)
class PushRequest:
    url: str
    headers: dict[str, str]
    body: bytes


def audience(endpoint: str) -> str:
    """The VAPID ``aud`` claim: the push service's origin."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def push_request(
    subscription: Subscription,
    payload: dict[str, Any],
    *,
    vapid_private_key: str,
    subject: str,
    ttl: int = DEFAULT_TTL_SECONDS,
    urgency: str = "normal",
) -> PushRequest:
    """The POST that delivers ``payload`` (as JSON) to the browser behind ``subscription``:
    encrypted to its ``p256dh`` key and ``auth`` secret (aes128gcm), authorised by a VAPID
    JWT signed with the channel's key for the endpoint's origin."""
    body = WebPusher(subscription.info()).encode(
        json.dumps(payload, separators=(",", ":")).encode(), content_encoding="aes128gcm"
    )["body"]
    vapid = Vapid02.from_raw(vapid_private_key.encode())
    claims = {
        "aud": audience(subscription.endpoint),
        "sub": subject,
        "exp": int(time.time()) + VAPID_TOKEN_SECONDS,
    }
    headers = {str(k): str(v) for k, v in vapid.sign(claims).items()}
    headers.update(
        {
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(ttl),
            "Urgency": urgency,
        }
    )
    return PushRequest(url=subscription.endpoint, headers=headers, body=bytes(body))
