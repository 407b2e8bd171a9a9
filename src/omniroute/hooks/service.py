import hashlib
import hmac
from urllib.parse import parse_qsl

from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.channels import service as channels
from omniroute.channels.models import Channel
from omniroute.core.errors import AuthenticationError, PermissionDeniedError, not_found
from omniroute.core.ids import new_id
from omniroute.core.tenancy import Mode
from omniroute.core.time import utcnow
from omniroute.core.upsert import insert_if_absent
from omniroute.hooks.models import ProviderWebhook
from omniroute.jobs.queue import PRIORITY_HIGH, enqueue
from omniroute.providers.twilio import signature as twilio_signature

PROCESS_JOB = "hooks.process"
SIGNATURE_PREFIX = "sha256="


async def channel_for_hook(session: AsyncSession, provider: str, channel_id: str) -> Channel:
    channel = await channels.recent(session, channel_id)
    if channel is None or channel.provider != provider or channel.deleted_at is not None:
        raise not_found(f"{provider} channel", channel_id)
    return channel


def verify_subscription(channel: Channel, mode: str | None, token: str | None) -> None:
    """Meta's handshake: ``hub.mode=subscribe`` and the channel's own verify token."""
    expected = str((channel.config or {}).get("verify_token", ""))
    if mode != "subscribe" or not token or not hmac.compare_digest(token.encode(), expected.encode()):
        raise PermissionDeniedError(
            "verification_failed",
            "hub.mode must be 'subscribe' and hub.verify_token must equal the channel's verify_token.",
            param="hub.verify_token",
        )


def verify_signature(channel: Channel, body: bytes, header: str | None) -> None:
    """``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, raw body)>``."""
    secret = str((channel.config or {}).get("app_secret", ""))
    expected = SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if (
        not secret
        or not header
        or not hmac.compare_digest(header.strip().lower().encode(), expected.encode())
    ):
        raise AuthenticationError(
            "signature_invalid",
            "X-Hub-Signature-256 is missing or does not match the body signed with the channel's "
            "app_secret; nothing was stored.",
            param="X-Hub-Signature-256",
        )


def verify_twilio_signature(channel: Channel, url: str, body: bytes, header: str | None) -> None:
    """``X-Twilio-Signature`` over the URL Twilio called and the sorted form parameters,
    under the channel's auth token: a 403 otherwise (Twilio's own convention)."""
    params = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    if not twilio_signature.valid(str((channel.config or {}).get("auth_token", "")), url, params, header):
        raise PermissionDeniedError(
            "signature_invalid",
            "X-Twilio-Signature is missing or does not match this URL and the parameters signed with the "
            "channel's auth_token; nothing was stored. Behind a proxy, set OMNIROUTE_PUBLIC_BASE_URL.",
            param="X-Twilio-Signature",
        )


async def receive(session: AsyncSession, channel: Channel, body: bytes) -> bool:
    """Store the delivery and queue its processing. False if it is a duplicate."""
    webhook_id = new_id("whk")
    stored = await insert_if_absent(
        session,
        ProviderWebhook,
        {
            "id": webhook_id,
            "workspace_id": channel.workspace_id,
            "mode": channel.mode,
            "channel_id": channel.id,
            "provider": channel.provider,
            "body": body,
            "content_hash": hashlib.sha256(body).hexdigest(),
            "received_at": utcnow(),
        },
    )
    if stored:
        enqueue(
            session,
            PROCESS_JOB,
            {"webhook_id": webhook_id},
            priority=PRIORITY_HIGH,
            workspace_id=channel.workspace_id,
            mode=Mode(channel.mode),
        )
    return stored
