"""The ``smtp`` provider: builds the MIME message (``mime``), hands it to the channel's
relay over a pooled connection (``pool``) and maps the relay's answer:

- accepted (250 after DATA) → ``SendReceipt`` with our Message-ID: the message is ``sent``;
- a 5xx reply (sender, recipients, data) → ``ProviderRejected`` ``email_rejected`` with the
  relay's reply text, final;
- 535 and other refused AUTH → ``ProviderAuthError`` (the channel needs new credentials);
- a 4xx reply, a refused or dropped connection, a TLS failure → ``ProviderTransientError``,
  retried with back-off;
- a timeout once the message was being sent → ``ProviderOutcomeUnknown`` (it may have
  been accepted: never sent twice).
"""

import logging
import ssl
from dataclasses import dataclass, field

import aiosmtplib

from omniroute.config import Settings
from omniroute.core import targets
from omniroute.providers.base import ChannelRef, EmailProvider, OutboundMessage, SendReceipt
from omniroute.providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderTransientError,
)
from omniroute.providers.smtp import mime
from omniroute.providers.smtp.config import SmtpConfig
from omniroute.providers.smtp.pool import SmtpPool

log = logging.getLogger(__name__)

REJECTED = "email_rejected"


@dataclass
class SmtpContext:
    """The process's SMTP pools, one per channel and config (a changed config, such as
    a new password, gets a new pool; the old one is closed)."""

    settings: Settings
    pools: dict[str, SmtpPool] = field(default_factory=dict)

    async def pool(self, channel_id: str, config: SmtpConfig) -> SmtpPool:
        pool = self.pools.get(channel_id)
        if pool is None or pool.config != config:
            if pool is not None:
                await pool.close()
            pool = self.pools[channel_id] = SmtpPool(config, self.settings)
        return pool

    async def close(self) -> None:
        for pool in self.pools.values():
            await pool.close()
        self.pools.clear()


def reply_error(code: int, text: str, *, what: str) -> ProviderError:
    """An SMTP reply that refused ``what``: final for 5xx, retryable otherwise."""
    message = f"The mail relay refused the {what}: {code} {text}".strip()
    if 500 <= code < 600:
        return ProviderRejected(message, code=REJECTED, provider_code=code)
    return ProviderTransientError(message, code="email_deferred", provider_code=code)


class SmtpEmail(EmailProvider):
    name = "smtp"

    def __init__(self, channel: ChannelRef, context: SmtpContext) -> None:
        super().__init__(channel)
        self.context = context
        self.config = SmtpConfig.model_validate(channel.config)

    async def send(self, message: OutboundMessage) -> SendReceipt:
        content = message.content or {}
        mail = mime.build(
            content,
            message_id=message.message_id,
            sender=self.config.from_address,
            sender_name=self.config.from_name,
            recipient=message.recipient,
        )
        recipients = mime.envelope_recipients(message.recipient, content)
        pool = await self.context.pool(self.channel.id, self.config)
        try:
            async with pool.connection() as client:
                try:
                    refused, _ = await client.send_message(
                        mail, sender=self.config.from_address, recipients=recipients
                    )
                except aiosmtplib.SMTPTimeoutError as exc:
                    raise ProviderOutcomeUnknown(
                        f"The mail relay did not answer in time while the email was being sent ({exc})."
                    ) from exc
        except ProviderError:
            raise
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise ProviderAuthError(
                f"The mail relay refused the credentials: {exc.code} {exc.message}",
                code="credentials_rejected",
                provider_code=exc.code,
            ) from exc
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise _recipients_error(exc) from exc
        except aiosmtplib.SMTPSenderRefused as exc:
            raise reply_error(exc.code, exc.message, what=f"sender {exc.sender}") from exc
        except aiosmtplib.SMTPDataError as exc:
            raise reply_error(exc.code, exc.message, what="message") from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise reply_error(exc.code, exc.message, what="session") from exc
        except targets.TargetRefused as forbidden:
            raise ProviderRejected(
                f"config.host refused: {forbidden}. Nothing was sent.", code="target_forbidden"
            ) from forbidden
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise ProviderTransientError(
                f"The mail relay could not be reached or dropped the connection: {exc}",
                code="relay_unavailable",
            ) from exc
        if refused:
            log.warning(
                "message %s: the relay refused some recipients and took the rest: %s",
                message.message_id,
                {address: f"{reply.code} {reply.message}" for address, reply in refused.items()},
            )
        return SendReceipt(mime.message_id_for(message.message_id, self.config.from_address))


def _recipients_error(exc: aiosmtplib.SMTPRecipientsRefused) -> ProviderError:
    """Every recipient refused: final if any refusal was permanent."""
    first = min(exc.recipients, key=lambda refusal: -refusal.code)  # a 5xx before a 4xx
    return reply_error(first.code, first.message, what=f"recipient {first.recipient}")
