"""Database engine, sessions and the declarative base shared by every model."""

import asyncio
import sqlite3
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import JSON, MetaData, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.util import await_only

if TYPE_CHECKING:
    import asyncpg

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSONB on PostgreSQL, JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _prepare_sqlite_directory(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        from pathlib import Path

        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str) -> AsyncEngine:
    _prepare_sqlite_directory(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Take over transaction control from the driver (see _begin_immediate).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        writer = _SQLiteWriterTurn(engine)

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(connection: Any) -> None:
            # A deferred transaction that reads and then writes fails at once with
            # "database is locked" when another connection wrote in between; taking the
            # write lock up front makes it wait instead (see _SQLiteWriterTurn).
            writer.take(connection)
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                writer.give_back(connection)
                raise

        return engine
    return create_async_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)


urgent_writes: ContextVar[bool] = ContextVar("urgent_writes", default=False)
"""Set (for a task) while its transactions are on an urgent path (a one-time code's or a
reply's dispatch): on SQLite they take the next writer turn before any queued ordinary
one. No effect on PostgreSQL, which has no single writer."""


class _SQLiteWriterTurn:
    """SQLite has one writer at a time. Its busy handler makes the others sleep and retry
    (1 ms, 2 ms, 5 ms … 100 ms), so under load most of the time goes to sleeping while the
    database is free. The transactions of one process instead take turns in a queue, each
    starting the moment the last one ends; other processes still wait in ``busy_timeout``.

    Urgent transactions (``urgent_writes``) queue ahead of the others: under a campaign a
    dozen transactions wait for the writer at any time (dispatch batches, the network's
    statuses, the campaign's run, API reads), about 0.1 s each, and an urgent send needs
    two turns (claim, prepare) before it leaves."""

    TIMEOUT_SECONDS = 30.0

    def __init__(self, engine: AsyncEngine) -> None:
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._ordinary: deque[asyncio.Future[None]] = deque()
        self._holder: object | None = None
        event.listen(engine.sync_engine, "commit", self.give_back)
        event.listen(engine.sync_engine, "rollback", self.give_back)
        event.listen(engine.sync_engine.pool, "checkin", self._on_checkin)

    def take(self, connection: Any) -> None:
        """Wait for this process's turn to write (called inside SQLAlchemy's greenlet)."""
        if self._held:
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            (self._urgent if urgent_writes.get() else self._ordinary).append(turn)
            try:
                # The turn is handed over (``_release``) by setting the future: a timeout
                # cancels it, and a cancelled future is skipped by the next hand-over.
                await_only(asyncio.wait_for(turn, self.TIMEOUT_SECONDS))
            except TimeoutError as exc:
                raise sa_exc.OperationalError(
                    "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
                ) from exc
        self._held = True
        self._holder = connection.connection.dbapi_connection

    def give_back(self, connection: Any) -> None:
        if self._holder is not None and self._holder is connection.connection.dbapi_connection:
            self._release()

    def _on_checkin(self, dbapi_connection: Any, _record: Any) -> None:
        """A connection returned to the pool ends its turn, whatever ended its transaction."""
        if self._holder is not None and self._holder is dbapi_connection:
            self._release()

    def _release(self) -> None:
        """Hand the turn to the first urgent waiter, else the first other one, else free it."""
        self._holder = None
        for waiting in (self._urgent, self._ordinary):
            while waiting:
                turn = waiting.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self._held = False


def is_database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) says the database cannot be reached or used
    for now (down, restarting, a dropped connection, an exhausted pool, SQLite's lock
    wait running out, a deadlock with a concurrent transaction), as opposed to a bug or a
    constraint: worth retrying later."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, sa_exc.InterfaceError | sa_exc.TimeoutError):
            return True
        if isinstance(current, sa_exc.OperationalError) and not _is_sqlite_mistake(current.orig):
            return True
        if isinstance(current, ConnectionError) or _is_asyncpg_unavailable(current):
            return True
        current = current.__cause__ or current.__context__
    return False


_ASYNCPG_UNAVAILABLE = frozenset(
    {
        "ConnectionDoesNotExistError",  # the server closed the connection
        "ConnectionFailureError",
        "PostgresConnectionError",
        "CannotConnectNowError",  # 57P03: starting up or shutting down
        "AdminShutdownError",  # 57P01: terminated by a shutdown
        "CrashShutdownError",  # 57P02
        "TooManyConnectionsError",  # 53300
        "DeadlockDetectedError",  # 40P01: chosen to end a deadlock with a concurrent transaction
        "SerializationError",  # 40001
    }
)
"""asyncpg errors that mean "not now" (matched by name: asyncpg is optional): the
database is unreachable, or it ended this transaction for a concurrent one's sake."""

_SQLITE_UNAVAILABLE = ("database is locked", "database is busy", "unable to open database", "disk i/o error")


def _is_sqlite_mistake(error: BaseException | None) -> bool:
    """SQLite reports a bad statement ("no such table", a syntax error) as an
    OperationalError too; only its lock and file errors mean "not now"."""
    if not isinstance(error, sqlite3.OperationalError):
        return False
    text = str(error).lower()
    return not any(reason in text for reason in _SQLITE_UNAVAILABLE)


def _is_asyncpg_unavailable(error: BaseException) -> bool:
    return any(
        cls.__module__.startswith("asyncpg") and cls.__name__ in _ASYNCPG_UNAVAILABLE
        for cls in type(error).__mro__
    )


T = TypeVar("T")

RETRY_FIRST_SECONDS = 0.1
RETRY_MAX_SECONDS = 2.0


async def when_available(
    attempt: Callable[[], Awaitable[T]], *, give_up_after: float, stop: asyncio.Event | None = None
) -> T:
    """Run ``attempt`` (a whole transaction); while it fails because the database is
    unavailable, run it again with back-off (0.1 s doubling to 2 s), so that what must be
    recorded is recorded as soon as the database is back. After ``give_up_after``
    seconds, or once ``stop`` is set, the last error propagates."""
    deadline = time.monotonic() + give_up_after
    delay = RETRY_FIRST_SECONDS
    while True:
        try:
            return await attempt()
        except Exception as exc:
            if not is_database_unavailable(exc) or time.monotonic() + delay > deadline:
                raise
            if stop is not None and stop.is_set():
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, RETRY_MAX_SECONDS)


class Database:
    """One engine and session factory per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session committed on success and rolled back on error (for workers and the CLI)."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()


async def serialize_on(session: AsyncSession, key: str) -> None:
    """Make transactions that decide on the same ``key`` (count, then insert) take turns
    until this one commits: a PostgreSQL advisory transaction lock. SQLite needs none, its
    writers already take turns."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


async def connect_postgres(url: str) -> "asyncpg.Connection":
    """A plain asyncpg connection to the URL's database, outside the engine's pool (for
    statements that need no transaction, and for LISTEN)."""
    import asyncpg

    parsed = make_url(url)
    return await asyncpg.connect(
        host=parsed.host,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )


async def run_on_postgres(url: str, *statements: str) -> None:
    """Run statements outside a transaction (CREATE DATABASE needs that) on the URL's database."""
    connection = await connect_postgres(url)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()
