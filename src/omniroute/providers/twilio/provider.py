"""The Twilio adapter: one instance per channel, on the process's shared keep-alive
aiohttp session (every connection through the outbound-target policy)."""

import json
from dataclasses import dataclass

import aiohttp

from omniroute.config import Settings
from omniroute.core import targets
from omniroute.core.outbound import OutboundHttp
from omniroute.providers.base import ChannelRef, OutboundMessage, SendReceipt, SmsProvider
from omniroute.providers.errors import ProviderRejected
from omniroute.providers.meta.provider import completely_written
from omniroute.providers.meta.wire import error_from_transport
from omniroute.providers.twilio import wire
from omniroute.providers.twilio.config import TwilioConfig

HOOK_PATH = "/hooks/twilio/{channel_id}"


def hook_url(settings: Settings, channel_id: str) -> str | None:
    """Where Twilio posts this channel's callbacks, if the public base URL is set."""
    if not settings.public_base_url:
        return None
    return settings.public_base_url.rstrip("/") + HOOK_PATH.format(channel_id=channel_id)


@dataclass(frozen=True)
class TwilioContext:
    http: OutboundHttp
    settings: Settings


class TwilioSms(SmsProvider):
    name = "twilio"

    def __init__(self, channel: ChannelRef, context: TwilioContext) -> None:
        super().__init__(channel)
        self.context = context
        self.config = TwilioConfig.model_validate(channel.config)

    async def send(self, message: OutboundMessage) -> SendReceipt:
        body = str((message.content or {}).get("body", ""))
        form = wire.send_form(
            message.recipient, self.config.from_, body, hook_url(self.context.settings, self.channel.id)
        )
        upload = aiohttp.UploadTracker()
        try:
            async with self.context.http.request(
                "POST",
                self.config.messages_url,
                data=form,
                headers={
                    "Authorization": aiohttp.encode_basic_auth(
                        self.config.account_sid, self.config.auth_token
                    )
                },
                upload_tracker=upload,
            ) as response:
                status, raw, retry_after = (
                    response.status,
                    await response.read(),
                    response.headers.get("Retry-After"),
                )
        except targets.TargetRefused as refused:
            raise ProviderRejected(
                f"config.api_base_url refused: {refused}. Nothing was sent.", code="target_forbidden"
            ) from refused
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise error_from_transport(
                exc, request_written=completely_written(upload), service="Twilio"
            ) from exc
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        if not 200 <= status < 300:
            raise wire.error_from_response(status, answer, retry_after)
        return SendReceipt(wire.receipt_sid(answer))
