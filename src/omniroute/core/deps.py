"""FastAPI dependencies shared by every router."""

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession


def get_session(request: Request) -> AsyncSession:
    """The request's session, opened and committed by ``TransactionalRoute``."""
    session = request.state.session
    assert isinstance(session, AsyncSession)
    return session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
