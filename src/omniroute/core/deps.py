"""FastAPI dependencies shared by every router."""

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession


async def get_session(request: Request) -> AsyncSession:
    """The request's session, opened and committed by ``TransactionalRoute``."""
    session = request.state.session
    assert isinstance(session, AsyncSession)
    return session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def end_transaction_before_provider_call(session: AsyncSession) -> None:
    """A provider call can take seconds. End the request's transaction before it (the
    endpoint has only read so far) instead of holding it, and SQLite's write lock, across
    the call; what the endpoint writes afterwards commits with the route as usual."""
    await session.commit()
