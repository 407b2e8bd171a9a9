"""The sandbox WhatsApp provider refuses sends over Meta's limits with the same shared
limiter as the emulator, as a retryable rate limit carrying Meta's code."""

import time

import pytest

from omniroute.channels.models import ChannelType
from omniroute.config import Settings
from omniroute.core.db import Database
from omniroute.policy.limits import PAIR_RATE_BURST, PAIR_RATE_INTERVAL
from omniroute.providers.base import ChannelRef, OutboundMessage
from omniroute.providers.errors import ProviderRateLimited
from omniroute.providers.sandbox.network_rules import SendLimits
from omniroute.providers.sandbox.provider import SandboxContext, SandboxWhatsApp
from tests.conftest import CUSTOMER

CHANNEL = ChannelRef(
    id="ch_limits",
    workspace_id="ws_limits",
    mode="test",
    type=ChannelType.WHATSAPP,
    address="+15550001",
    config={},
)


async def test_a_send_over_the_pair_rate_is_rate_limited_with_131056(
    db: Database, settings: Settings
) -> None:
    context = SandboxContext(db=db, settings=settings)
    limits = context.limits.setdefault(CHANNEL.id, SendLimits())
    now = time.monotonic()
    assert all(limits.pair_rate.allow(CUSTOMER, now) for _ in range(PAIR_RATE_BURST))

    with pytest.raises(ProviderRateLimited) as refused:
        await SandboxWhatsApp(CHANNEL, context).send(
            OutboundMessage("msg_limits", CUSTOMER, "text", {"body": "Hi"})
        )
    assert refused.value.provider_code == 131056
    assert refused.value.code == "pair_rate_limited"
    assert refused.value.retry_after == PAIR_RATE_INTERVAL.total_seconds()
