"""The contact and the conversation of a first send are created with an atomic upsert:
however many sends to a brand-new recipient race, each is accepted and exactly one
contact and one conversation exist. The race needs concurrent writers, which only
PostgreSQL has (SQLite serialises writers)."""

import asyncio
from collections import Counter

import pytest
from sqlalchemy import func, select

from omniroute.contacts.models import Contact
from omniroute.conversations.models import Conversation
from omniroute.core.db import Database
from tests.conftest import Tenant

NEW_RECIPIENT = "+2348031234567"


pytestmark = pytest.mark.usefixtures("concurrent_writers")


async def test_30_concurrent_first_sends_to_a_new_recipient_create_one_contact_and_one_conversation(
    tenant: Tenant, db: Database
) -> None:
    responses = await asyncio.gather(*(tenant.send(NEW_RECIPIENT, channel_id=tenant.sms) for _ in range(30)))

    assert Counter(r.status_code for r in responses) == {202: 30}, [r.text for r in responses]
    async with db.sessionmaker() as session:
        contacts = await session.scalar(
            select(func.count())
            .select_from(Contact)
            .where(Contact.workspace_id == tenant.workspace_id, Contact.address == NEW_RECIPIENT)
        )
        conversations = await session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.workspace_id == tenant.workspace_id, Conversation.channel_id == tenant.sms)
        )
    assert (contacts, conversations) == (1, 1)
