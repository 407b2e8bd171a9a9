"""Cursor pagination: newest first, ``?limit=`` 1-200 and ``?starting_after=<id>``.

Ids sort by creation time, so the id itself is the cursor. A cursor that is not an item
of the list is a 404 (param ``starting_after``), never a silent first page."""

from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from omniroute.core.errors import NotFoundError

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    data: list[T]
    has_more: bool
    next_cursor: str | None


class PageParams(BaseModel):
    limit: int
    starting_after: str | None


async def page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page (1-200).")] = 50,
    starting_after: Annotated[
        str | None, Query(max_length=40, description="Return items created before this id.")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, starting_after=starting_after)


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    id_column: InstrumentedAttribute[str],
    params: PageParams,
) -> tuple[Sequence[Any], bool, str | None]:
    if params.starting_after:
        if not await is_listed(session, statement, id_column, params.starting_after):
            raise unknown_cursor(params.starting_after)
        statement = statement.where(id_column < params.starting_after)
    rows = (await session.scalars(statement.order_by(id_column.desc()).limit(params.limit + 1))).all()
    has_more = len(rows) > params.limit
    rows = rows[: params.limit]
    return rows, has_more, (rows[-1].id if has_more and rows else None)


async def is_listed(
    session: AsyncSession, statement: Select[Any], id_column: InstrumentedAttribute[str], cursor: str
) -> bool:
    """Whether ``cursor`` is the id of an item of the list ``statement`` selects."""
    return bool(await session.scalar(select(statement.where(id_column == cursor).exists())))


def unknown_cursor(cursor: str) -> NotFoundError:
    """A cursor that is no item of the list would silently restart it from the first page."""
    return NotFoundError(
        "resource_not_found",
        f"starting_after: '{cursor}' is not the id of an item in this list (with these filters, "
        "for this API key's mode). Pass the next_cursor of the previous page.",
        param="starting_after",
    )
