"""One customer message is stored once, however many deliveries of it are applied at once:
a provider may carry the same message in several webhook bodies (each stored and processed
on its own), so the look-up before the insert is not enough; the unique provider message id
decides. The race needs concurrent writers, which only PostgreSQL has."""

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from omniroute.channels.models import Channel
from omniroute.core.db import Database
from omniroute.events.models import Event
from omniroute.events.types import EventType
from omniroute.ingest.service import record_inbound
from omniroute.messages.models import Message
from tests.conftest import Tenant
from tests.ingest.test_ingest import inbound_event

pytestmark = pytest.mark.usefixtures("concurrent_writers")

DELIVERIES = 20


async def test_one_message_in_20_bodies_applied_at_once_is_stored_once(tenant: Tenant, db: Database) -> None:
    at = datetime.now(UTC)

    async def apply(copy: int) -> bool:
        async with db.transaction() as session:
            channel = await session.get(Channel, tenant.whatsapp)
            assert channel is not None
            event = await inbound_event("wamid.RACE", f"Hello ({copy})", at)
            return await record_inbound(session, channel, event) is not None

    stored = await asyncio.gather(*(apply(copy) for copy in range(DELIVERIES)))

    assert stored.count(True) == 1
    async with db.sessionmaker() as session:
        messages = await session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.channel_id == tenant.whatsapp, Message.provider_message_id == "wamid.RACE")
        )
        received = await session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.workspace_id == tenant.workspace_id, Event.type == EventType.MESSAGE_RECEIVED)
        )
    assert (messages, received) == (1, 1)
