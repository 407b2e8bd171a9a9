"""Cursor pagination: newest first, ``?limit=`` 1-200 and ``?starting_after=<id>``.

Ids sort by creation time, so the id itself is the cursor."""

from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    data: list[T]
    has_more: bool
    next_cursor: str | None


class PageParams(BaseModel):
    limit: int
    starting_after: str | None


def page_params(
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
        statement = statement.where(id_column < params.starting_after)
    rows = (await session.scalars(statement.order_by(id_column.desc()).limit(params.limit + 1))).all()
    has_more = len(rows) > params.limit
    rows = rows[: params.limit]
    return rows, has_more, (rows[-1].id if has_more and rows else None)
