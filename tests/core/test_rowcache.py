"""The rows every request reads first (an API key with its workspace, a channel) are kept
for a moment, and a change any session of the process commits drops them at once."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, text, update

from omniroute.channels import service as channels
from omniroute.channels.models import Channel, ChannelStatus
from omniroute.core import rowcache
from omniroute.core.db import Database
from omniroute.core.tenancy import Mode, TenantRef
from omniroute.workspaces.auth import resolve_key
from tests.conftest import Tenant, assert_error


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def test_a_key_and_a_channel_read_again_cost_no_query(db: Database, tenant: Tenant) -> None:
    token = tenant.test.headers["authorization"].split()[1]
    async with db.transaction() as session:
        await resolve_key(session, token)
        await channels.recent(session, tenant.whatsapp)
    with statements(db) as seen:
        async with db.transaction() as session:
            auth = await resolve_key(session, token)
            channel = await channels.recent(session, tenant.whatsapp)
    assert not [s for s in seen if s.lstrip().upper().startswith("SELECT")], seen
    assert (auth.workspace_id, auth.mode) == (tenant.workspace_id, Mode.TEST)
    assert channel is not None and channel.workspace_id == tenant.workspace_id


async def test_each_read_gets_its_own_instance_joined_to_its_session(db: Database, tenant: Tenant) -> None:
    async with db.transaction() as first, db.transaction() as second:
        one = await channels.recent(first, tenant.whatsapp)
        other = await channels.recent(second, tenant.whatsapp)
        assert one is not None and other is not None and one is not other
        assert one in first and other in second
        one.config["note"] = "changed in one session only"
        assert "note" not in other.config
        await first.rollback()
    async with db.transaction() as session:
        again = await channels.recent(session, tenant.whatsapp)
        assert again is not None and "note" not in again.config


async def test_a_change_from_another_engine_of_the_process_drops_the_copy(
    db: Database, tenant: Tenant
) -> None:
    other = Database(db.url)
    try:
        async with db.transaction() as session:
            assert (await channels.recent(session, tenant.whatsapp)) is not None
        async with other.transaction() as session:
            changed = await session.get(Channel, tenant.whatsapp)
            assert changed is not None
            changed.status = ChannelStatus.DISABLED
        async with db.transaction() as session:
            channel = await channels.recent(session, tenant.whatsapp)
            assert channel is not None and channel.status == ChannelStatus.DISABLED
        async with other.transaction() as session:
            await session.execute(
                update(Channel).where(Channel.id == tenant.whatsapp).values(status=ChannelStatus.ACTIVE)
            )
        async with db.transaction() as session:
            channel = await channels.recent(session, tenant.whatsapp)
            assert channel is not None and channel.status == ChannelStatus.ACTIVE
    finally:
        await other.dispose()


async def test_a_disabled_channel_refuses_the_very_next_send(tenant: Tenant) -> None:
    assert (await tenant.send(channel_id=tenant.sms)).status_code == 202
    disabled = await tenant.test.patch(f"/v1/channels/{tenant.sms}", json={"status": "disabled"})
    assert disabled.status_code == 200, disabled.text
    assert_error(await tenant.send(channel_id=tenant.sms), 409, "channel_unavailable", param="channel_id")


async def test_a_change_the_process_cannot_see_shows_within_the_ttl(
    db: Database, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's change (here raw SQL, which no session hook sees) is read once the
    copy is older than ``TTL_SECONDS``."""
    monkeypatch.setattr(rowcache, "TTL_SECONDS", 0.05)
    async with db.transaction() as session:
        await channels.recent(session, tenant.whatsapp)
        await session.execute(
            text("UPDATE channels SET name = 'renamed elsewhere' WHERE id = :id"), {"id": tenant.whatsapp}
        )
    async with db.transaction() as session:
        channel = await channels.get_recent(
            session, TenantRef(tenant.workspace_id, Mode.TEST), tenant.whatsapp
        )
        assert channel.name != "renamed elsewhere", "still the copy"
    await asyncio.sleep(0.1)
    async with db.transaction() as session:
        channel = await channels.get_recent(
            session, TenantRef(tenant.workspace_id, Mode.TEST), tenant.whatsapp
        )
        assert channel.name == "renamed elsewhere"
