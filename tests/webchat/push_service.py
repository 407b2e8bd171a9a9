"""A Web Push service on loopback, as browsers' push services behave (RFC 8030): it
checks each request's VAPID JWT (RFC 8292: ES256 under the key in ``k``, ``aud`` the
endpoint's origin, ``exp`` within 24 h) and decrypts the payload with the subscription's
private key (RFC 8291 aes128gcm, http-ece's decryption: the real one), then answers
what the test told it to (201 by default; 410 for an expired subscription, 503, ...)."""

import base64
import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import http_ece
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from omniroute.providers.widget.webpush import b64url, b64url_decode
from tests.conftest import _free_port


class Refused(Exception):
    pass


def verify_vapid(authorization: str, endpoint_origin: str) -> tuple[str, dict[str, Any]]:
    """The VAPID public key (``k``) and the JWT's claims, once both check out."""
    scheme, _, params = authorization.partition(" ")
    if scheme != "vapid":
        raise Refused(f"not a vapid authorization: {authorization!r}")
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    token, key = fields["t"], fields["k"]
    head, body, signature = token.split(".")
    public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
    raw = b64url_decode(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public_key.verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise Refused("bad VAPID signature") from exc
    if json.loads(b64url_decode(head)) != {"typ": "JWT", "alg": "ES256"}:
        raise Refused("not an ES256 JWT")
    claims = json.loads(b64url_decode(body))
    if claims["aud"] != endpoint_origin:
        raise Refused(f"aud {claims['aud']} is not {endpoint_origin}")
    if not time.time() < claims["exp"] <= time.time() + 24 * 3600:
        raise Refused("exp out of range")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https://", "http://")):
        raise Refused("no sub contact")
    return key, claims


@dataclass
class BrowserSubscription:
    """What a browser's PushManager holds: the private key and auth secret stay here."""

    id: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    answers: list[int] = field(default_factory=list)
    """Statuses to answer, in order (then 201)."""
    received: list[dict[str, Any]] = field(default_factory=list)
    """Each decrypted payload, with the VAPID key and claims it came with."""
    attempts: int = 0

    @property
    def p256dh(self) -> str:
        return b64url(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    def as_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth)}}


@dataclass
class PushService:
    url: str
    subscriptions: dict[str, BrowserSubscription] = field(default_factory=dict)
    refusals: list[str] = field(default_factory=list)

    def subscription(self, *answers: int) -> BrowserSubscription:
        sub_id = base64.urlsafe_b64encode(os.urandom(9)).decode()
        subscription = BrowserSubscription(
            sub_id,
            f"{self.url}/push/{sub_id}",
            ec.generate_private_key(ec.SECP256R1()),
            os.urandom(16),
            list(answers),
        )
        self.subscriptions[sub_id] = subscription
        return subscription

    async def handle(self, request: web.Request) -> web.Response:
        subscription = self.subscriptions.get(request.match_info["sub"])
        if subscription is None:
            return web.Response(status=404)
        subscription.attempts += 1
        try:
            if (
                request.headers.get("Content-Encoding") != "aes128gcm"
                or not request.headers.get("TTL", "").isdigit()
            ):
                raise Refused("not an aes128gcm push with a TTL")
            key, claims = verify_vapid(request.headers["Authorization"], self.url)
            plaintext = http_ece.decrypt(
                await request.read(),
                private_key=subscription.private_key,
                auth_secret=subscription.auth,
                version="aes128gcm",
            )
        except (Refused, KeyError, ValueError) as refused:
            self.refusals.append(str(refused))
            return web.Response(status=400, text=str(refused))
        status = subscription.answers.pop(0) if subscription.answers else 201
        if status == 201:
            subscription.received.append(
                {"payload": json.loads(plaintext), "vapid_key": key, "claims": claims}
            )
        return web.Response(status=status, headers={"Retry-After": "0"} if status in (429, 503) else {})


@asynccontextmanager
async def push_service() -> AsyncIterator[PushService]:
    port = _free_port()
    service = PushService(f"http://127.0.0.1:{port}")
    app = web.Application()
    app.router.add_post("/push/{sub}", service.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield service
    finally:
        await runner.cleanup()
