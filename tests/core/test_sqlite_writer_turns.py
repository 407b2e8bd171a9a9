"""SQLite has one writer: a process's transactions take turns, and an urgent one (a
one-time code's dispatch) takes the next turn ahead of every ordinary one waiting."""

import asyncio
from pathlib import Path

from sqlalchemy import text

from omniroute.core.db import Database, urgent_writes


async def test_an_urgent_transaction_takes_the_next_turn_ahead_of_waiting_ones(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}")
    order: list[str] = []
    holding = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:
        async with db.transaction() as session:
            await session.execute(text("SELECT 1"))
            holding.set()
            await release.wait()

    async def write(name: str, urgent: bool) -> None:
        urgent_writes.set(urgent)  # this task's transactions only
        async with db.transaction() as session:
            await session.execute(text("SELECT 1"))
            order.append(name)

    holder = asyncio.create_task(hold())
    await holding.wait()
    waiting = [asyncio.create_task(write(f"ordinary {n}", False)) for n in range(3)]
    await asyncio.sleep(0.3)  # they queue first
    waiting.append(asyncio.create_task(write("urgent", True)))
    await asyncio.sleep(0.3)
    release.set()
    await asyncio.gather(holder, *waiting)
    await db.dispose()
    assert order[0] == "urgent"
    assert sorted(order[1:]) == ["ordinary 0", "ordinary 1", "ordinary 2"]
