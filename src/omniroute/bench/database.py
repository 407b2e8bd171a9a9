"""The benchmark's own database: a fresh one per run, beside the one it was given, and
what the benchmark reads of it (counts of messages by status, seen from outside)."""

import secrets
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from omniroute.core.db import run_on_postgres
from omniroute.messages.models import Direction, Message, MessageStatus

HANDED_OVER = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ)
"""Statuses of a message the provider has accepted."""
UNSETTLED = (MessageStatus.QUEUED, MessageStatus.SENDING)


@dataclass(frozen=True)
class ScratchDatabase:
    url: str
    kind: str
    """``sqlite`` or ``postgresql``."""
    name: str
    """The PostgreSQL database or the SQLite file."""


async def create(given: str | None) -> ScratchDatabase:
    """A new empty database: a SQLite file in a temporary directory (beside the given
    SQLite file's, if one is given), or a new PostgreSQL database on the given URL's
    server, named after the given one."""
    url = make_url(given or "sqlite+aiosqlite://")
    suffix = secrets.token_hex(4)
    if url.get_backend_name() == "sqlite":
        parent = Path(url.database).parent if url.database not in (None, "", ":memory:") else None
        if parent is not None:
            parent.mkdir(parents=True, exist_ok=True)
        directory = Path(tempfile.mkdtemp(prefix="omniroute-bench-", dir=parent))
        path = directory / "bench.db"
        return ScratchDatabase(f"sqlite+aiosqlite:///{path}", "sqlite", str(path))
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"the benchmark runs on SQLite or PostgreSQL, not {url.get_backend_name()}")
    name = f"{url.database or 'omniroute'}_{suffix}"
    await run_on_postgres(given or "", f'CREATE DATABASE "{name}"')
    return ScratchDatabase(url.set(database=name).render_as_string(hide_password=False), "postgresql", name)


async def drop(database: ScratchDatabase, given: str | None) -> None:
    if database.kind == "sqlite":
        shutil.rmtree(Path(database.name).parent, ignore_errors=True)
        return
    await run_on_postgres(given or "", f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')


def reader(url: str) -> AsyncEngine:
    """An engine for the benchmark's reads. On SQLite it keeps the driver's deferred
    transactions (omniroute's own engine takes the write lock for every transaction,
    which would stall the gateway it measures)."""
    if make_url(url).get_backend_name() == "sqlite":
        return create_async_engine(url, connect_args={"timeout": 30})
    return create_async_engine(url, pool_size=4, max_overflow=0)


async def count_messages(
    engine: AsyncEngine,
    channel_id: str,
    *,
    direction: Direction = Direction.OUTBOUND,
    statuses: Iterable[MessageStatus] | None = None,
) -> int:
    query = (
        select(func.count())
        .select_from(Message)
        .where(Message.channel_id == channel_id, Message.direction == direction)
    )
    if statuses is not None:
        query = query.where(Message.status.in_(list(statuses)))
    async with engine.connect() as connection:
        return int((await connection.execute(query)).scalar_one())


async def handed_over(engine: AsyncEngine, message_ids: Iterable[str]) -> set[str]:
    """Which of these messages the provider has accepted (``sent`` or later)."""
    wanted = list(message_ids)
    found: set[str] = set()
    async with engine.connect() as connection:
        for start in range(0, len(wanted), 500):
            rows = await connection.execute(
                select(Message.id).where(
                    Message.id.in_(wanted[start : start + 500]), Message.status.in_(HANDED_OVER)
                )
            )
            found.update(rows.scalars())
    return found


async def outbound_ids(engine: AsyncEngine, channel_id: str) -> set[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(Message.id).where(
                Message.channel_id == channel_id, Message.direction == Direction.OUTBOUND
            )
        )
        return set(rows.scalars())


async def provider_ids(engine: AsyncEngine, channel_id: str) -> list[tuple[str, str, str]]:
    """(our id, the provider's id, recipient) of every outbound message the provider accepted."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(Message.id, Message.provider_message_id, Message.recipient).where(
                Message.channel_id == channel_id,
                Message.direction == Direction.OUTBOUND,
                Message.provider_message_id.is_not(None),
            )
        )
        return [(row[0], str(row[1]), row[2]) for row in rows.all()]
