"""The channel fallback after the send: WhatsApp reported the number undeliverable
(131026: not on WhatsApp, or unreachable) for a message that carried a channel
fallback. The original stays ``failed``; a new message goes out on the fallback channel
through the same acceptance checks and the normal dispatch, and the two name each
other (``fallback_for`` on the new one, ``fallback_message_id`` on the original)."""

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.core.errors import APIError
from omniroute.core.tenancy import Mode, TenantRef
from omniroute.messages import service
from omniroute.messages.models import Message
from omniroute.messages.schemas import SendMessage
from omniroute.policy.errors import UNDELIVERABLE

log = logging.getLogger(__name__)


def applies(message: Message, provider_code: int | str | None) -> bool:
    """A failed message that WhatsApp called undeliverable, with a channel fallback not
    yet used."""
    fallback = message.fallback or {}
    return (
        provider_code == UNDELIVERABLE
        and "channel_id" in fallback
        and message.fallback_message_id is None
        and message.fallback_for is None
    )


async def send_instead(session: AsyncSession, message: Message, at: datetime) -> Message | None:
    """Accept the fallback message for ``message`` (which just failed); None, logged, when
    the fallback cannot be sent (channel gone or disabled, recipient opted out there)."""
    fallback = message.fallback or {}
    content = "email" if "email" in fallback else "text"
    body = SendMessage.model_validate(
        {
            "channel_id": fallback["channel_id"],
            "to": fallback.get("to", message.recipient),
            content: fallback[content],
            "metadata": message.extra_metadata,
            "reference": message.reference,
            "priority": message.priority,
        }
    )
    try:
        replacement = await service.accept(
            session, TenantRef(message.workspace_id, Mode(message.mode)), at, body
        )
    except APIError as refusal:
        log.warning(
            "message %s: its fallback cannot be sent: %s %s", message.id, refusal.code, refusal.message
        )
        return None
    replacement.fallback_for = message.id
    replacement.fallback_used = "channel"
    message.fallback_message_id = replacement.id
    return replacement
