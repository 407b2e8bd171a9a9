"""Create a row unless it exists, without a race.

Looking a row up and inserting it when absent fails under concurrency: two requests
both find nothing, both insert, and the second hits the unique constraint (a 500 on
PostgreSQL). ``INSERT … ON CONFLICT DO NOTHING`` makes the second insert wait for the
first one's commit and then insert nothing; a select afterwards sees the winner's row."""

from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Insert, Select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.core.db import Base
from omniroute.workspaces.models import clock_stamped

M = TypeVar("M", bound=Base)


async def insert_if_absent(session: AsyncSession, model: type[Base], values: dict[str, Any]) -> bool:
    """Insert one row unless it would break a unique constraint or the primary key;
    True if this call inserted it. A tenant row is stamped from its workspace clock, like
    rows the ORM inserts; other column defaults apply as for any insert."""
    values = await clock_stamped(session, model, values)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    result = await session.execute(dialect.insert(model).values(**values).on_conflict_do_nothing())
    return bool(getattr(result, "rowcount", 0) == 1)


async def get_or_insert(
    session: AsyncSession, lookup: Select[M], model: type[M], values: dict[str, Any]
) -> M:
    """The row ``lookup`` finds, inserted from ``values`` first if there is none
    (``values`` must make ``lookup`` find it)."""
    row = await session.scalar(lookup)
    if row is None:
        row, _ = await insert_or_get(session, lambda: lookup, model, values)
    return row


async def insert_or_get(
    session: AsyncSession, lookup: Callable[[], Select[M]], model: type[M], values: dict[str, Any]
) -> tuple[M, bool]:
    """Insert the row a caller just found absent and return it (one statement, with
    ``RETURNING``), or the row a concurrent writer inserted first; True if this call
    inserted it. ``values`` must make ``lookup()`` find the row (built only on a conflict)."""
    values = await clock_stamped(session, model, values)
    inserted = await session.scalar(
        _insert_returning(model, session.get_bind().dialect.name == "postgresql"), values
    )
    if inserted is not None:
        return inserted, True
    row = await session.scalar(lookup())
    if row is None:
        raise LookupError(f"{model.__tablename__}: the inserted row does not match its lookup")
    return row, False


@cache
def _insert_returning(model: type[Base], on_postgresql: bool) -> Insert:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING`` the row, built once per model."""
    insert = postgresql.insert(model) if on_postgresql else sqlite.insert(model)
    return insert.on_conflict_do_nothing().returning(model)


async def insert_all_absent(session: AsyncSession, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert many rows in one statement, skipping those that would break a unique
    constraint (``INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING``). The caller stamps
    ``created_at`` itself: rows inserted this way skip the ORM's flush hooks."""
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(dialect.insert(model).values(rows).on_conflict_do_nothing())
