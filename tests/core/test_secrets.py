"""Channel secrets at rest: encrypted under ``OMNIROUTE_SECRET_KEY`` (first key
encrypts, every key decrypts), encrypted by migration 0006 where they were stored in
plaintext, re-encrypted by ``omniroute secrets rotate``; the embedded set-up's key is
generated once under ``data/`` with mode 0600."""

import asyncio
import json
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from typer.testing import CliRunner

from omniroute import cli
from omniroute.channels import service as channels
from omniroute.channels.models import Channel, ChannelType
from omniroute.config import Settings, get_settings
from omniroute.core import secrets
from omniroute.core.db import Database
from omniroute.core.tenancy import Mode
from omniroute.migrations.runner import downgrade, upgrade
from omniroute.workspaces import service as workspaces
from tests.conftest import scratch_database
from tests.providers.meta.live import ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN, meta_config

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
CONFIG = meta_config()
SECRETS = {"access_token": ACCESS_TOKEN, "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN}


@pytest.fixture
async def scratch(settings: Settings) -> AsyncIterator[str]:
    """A database of its own at the newest schema (the server's is untouched)."""
    scratch_url = await scratch_database(settings, "secrets")
    await asyncio.to_thread(upgrade, scratch_url)
    yield scratch_url


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Switch this process's keys for the test (the server's come back afterwards)."""

    def use(*keys: str) -> None:
        monkeypatch.setattr(secrets, "_keyring", secrets.Keyring(list(keys)))

    return use


async def stored_channel(url: str) -> str:
    db = Database(url)
    try:
        async with db.transaction() as session:
            workspace = await workspaces.create_workspace(session, "secrets")
            channel = channels.new_channel(
                workspace.id,
                Mode.LIVE,
                type=ChannelType.WHATSAPP,
                name="Cloud API",
                provider="meta",
                address="+15550783881",
                config=CONFIG,
            )
            session.add(channel)
        return channel.id
    finally:
        await db.dispose()


async def raw_config(url: str, channel_id: str, plaintext: dict[str, Any] | None = None) -> dict[str, Any]:
    """The config column as stored (optionally overwritten first, bypassing encryption)."""
    db = Database(url)
    try:
        async with db.transaction() as session:
            if plaintext is not None:
                await session.execute(
                    text("UPDATE channels SET config = :config WHERE id = :id"),
                    {"config": json.dumps(plaintext), "id": channel_id},
                )
            raw = (
                await session.execute(text("SELECT config FROM channels WHERE id = :id"), {"id": channel_id})
            ).scalar_one()
        return raw if isinstance(raw, dict) else dict(json.loads(raw))
    finally:
        await db.dispose()


async def loaded_config(url: str, channel_id: str) -> dict[str, Any]:
    db = Database(url)
    try:
        async with db.sessionmaker() as session:
            channel = await session.get(Channel, channel_id)
            assert channel is not None
            return dict(channel.config)
    finally:
        await db.dispose()


def decrypts_with(key: str, stored: dict[str, Any]) -> bool:
    ring = secrets.Keyring([key])
    try:
        return ring.open(stored) == {**stored, **SECRETS}
    except secrets.SecretKeyMissing:
        return False


def test_the_first_key_encrypts_and_every_key_decrypts() -> None:
    old_token = secrets.Keyring([OLD]).encrypt("s3cret")
    both = secrets.Keyring([NEW, OLD])
    assert both.decrypt(old_token) == "s3cret"
    new_token = both.encrypt("s3cret")
    assert new_token.startswith(secrets.PREFIX) and "s3cret" not in new_token
    assert secrets.Keyring([NEW]).decrypt(new_token) == "s3cret"
    with pytest.raises(secrets.SecretKeyMissing):
        secrets.Keyring([OLD]).decrypt(new_token)


def test_no_key_or_a_malformed_key_is_explained() -> None:
    with pytest.raises(secrets.SecretKeyMissing, match="OMNIROUTE_SECRET_KEY"):
        secrets.Keyring([])
    with pytest.raises(secrets.SecretKeyMissing, match="not a Fernet key"):
        secrets.Keyring(["not-a-key"])


async def test_stored_secrets_are_ciphertext_and_load_as_plaintext(scratch: str, keys: Any) -> None:
    keys(OLD)
    channel_id = await stored_channel(scratch)
    stored = await raw_config(scratch, channel_id)
    assert all(stored[key].startswith(secrets.PREFIX) for key in SECRETS)
    assert not any(secret in json.dumps(stored) for secret in SECRETS.values())
    assert {key: (await loaded_config(scratch, channel_id))[key] for key in SECRETS} == SECRETS


async def test_migration_0006_encrypts_plaintext_secrets_and_downgrading_decrypts_them(
    scratch: str, keys: Any
) -> None:
    keys(OLD)
    channel_id = await stored_channel(scratch)
    await asyncio.to_thread(downgrade, scratch, "0005")
    plaintext = await raw_config(scratch, channel_id, plaintext=CONFIG)
    assert plaintext == CONFIG
    await asyncio.to_thread(upgrade, scratch)
    stored = await raw_config(scratch, channel_id)
    assert decrypts_with(OLD, stored)
    assert not any(secret in json.dumps(stored) for secret in SECRETS.values())
    await asyncio.to_thread(downgrade, scratch, "0005")
    assert await raw_config(scratch, channel_id) == CONFIG


async def test_rotation_re_encrypts_with_the_first_key(
    scratch: str, keys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys(OLD)
    channel_id = await stored_channel(scratch)
    assert decrypts_with(OLD, await raw_config(scratch, channel_id))
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", scratch)
    monkeypatch.setenv("OMNIROUTE_SECRET_KEY", f"{NEW},{OLD}")
    get_settings.cache_clear()
    try:
        result = await asyncio.to_thread(CliRunner().invoke, cli.app, ["secrets", "rotate"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "re-encrypted the secrets of 1 channel" in result.output
    stored = await raw_config(scratch, channel_id)
    assert decrypts_with(NEW, stored)
    assert not decrypts_with(OLD, stored)


def test_serve_generates_the_embedded_key_once_readable_by_its_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert secrets.configured_keys(Settings()) == []
    created = secrets.ensure_key_file(Settings())
    assert created == Path("data") / "secret.key"
    assert stat.S_IMODE(os.stat(created).st_mode) == 0o600
    [key] = secrets.configured_keys(Settings())
    assert secrets.Keyring([key]).decrypt(secrets.Keyring([key]).encrypt("x")) == "x"
    assert secrets.ensure_key_file(Settings()) is None  # kept, never replaced
    assert secrets.configured_keys(Settings()) == [key]
    assert secrets.ensure_key_file(Settings(secret_key=NEW)) is None
    assert secrets.configured_keys(Settings(secret_key=f" {NEW} , {OLD} ")) == [NEW, OLD]
