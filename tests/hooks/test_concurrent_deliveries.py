"""A provider webhook is stored with an atomic upsert: the same signed body delivered
many times at once is stored once, and every delivery is answered 200. The race needs
concurrent writers, which only PostgreSQL has (SQLite serialises writers)."""

import asyncio
import json
from collections import Counter

import httpx
import pytest
from sqlalchemy import func, select

from omniroute.core.db import Database
from omniroute.hooks.models import ProviderWebhook
from tests.providers.meta import payloads as p
from tests.providers.meta.live import MetaChannel, sign

pytestmark = pytest.mark.usefixtures("concurrent_writers")


async def test_the_same_signed_webhook_delivered_50_times_at_once_is_stored_once(
    meta: MetaChannel, db: Database
) -> None:
    body = json.dumps(p.inbound_payload("text", {"body": "Hello"}, wamid="wamid.STORM")).encode()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)}

    async def deliver() -> httpx.Response:
        return await meta.hooks.post(meta.hook_url, content=body, headers=headers)

    responses = await asyncio.gather(*(deliver() for _ in range(50)))

    assert Counter(r.status_code for r in responses) == {200: 50}, [r.text for r in responses]
    assert sorted(r.json()["duplicate"] for r in responses) == [False] + [True] * 49
    async with db.sessionmaker() as session:
        stored = await session.scalar(
            select(func.count()).select_from(ProviderWebhook).where(ProviderWebhook.channel_id == meta.id)
        )
    assert stored == 1
