"""Short-lived copies of the rows nearly every request reads first: an API key with its
workspace, a channel. A send or a provider webhook then costs no query (and, for a
channel, no decryption of its credentials) to find them.

A copy lives at most ``TTL_SECONDS``. A change this process commits drops the copies it
touches at once, whichever session or engine of the process made it: a flush that
changes or deletes a cached row drops its copy, an ORM ``UPDATE``/``DELETE`` statement on
a cached model drops every copy of that model, and both are dropped again after the
commit (a request may have copied the old row in between). Another process's change
reaches this one within ``TTL_SECONDS``; the checks that matter most are made again
where they act (dispatch reads its channels afresh).

A copy holds column values, never an ORM object: each read builds fresh instances and
joins them to the caller's session as if loaded, so a request may change them like any
row, and no two requests share one.
"""

import copy
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import URL, Engine, event, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, make_transient_to_detached

from omniroute.core.db import Base

TTL_SECONDS = 1.0
MAX_ENTRIES = 10_000
"""Copies kept per process; the least recently stored go first."""

RowT = TypeVar("RowT", bound=Base)
_Snapshot = tuple[type[Base], dict[str, Any]]
_Key = tuple[URL, str, str]
"""(database URL, kind, key)"""

_STALE = "omniroute.rowcache.stale"
"""A session's ``info`` entry: what its flushes changed, dropped again after commit."""


class RowCache:
    def __init__(self) -> None:
        self._entries: OrderedDict[_Key, tuple[float, tuple[_Snapshot, ...]]] = OrderedDict()
        self._kinds: list[tuple[str, type[Base], str]] = []

    def register(self, kind: str, model: type[Base], key_attribute: str) -> None:
        """A change to a ``model`` row drops the ``kind`` entry keyed by its ``key_attribute``
        (``"*"``: every ``kind`` entry, for a model whose rows are keyed otherwise)."""
        self._kinds.append((kind, model, key_attribute))

    async def get(self, session: AsyncSession, kind: str, key: str) -> tuple[Any, ...] | None:
        """Fresh instances of the rows stored under ``key``, joined to ``session``; None when
        nothing (or only an expired copy) is stored."""
        entry_key = (_database(session.sync_session), kind, key)
        entry = self._entries.get(entry_key)
        if entry is None:
            return None
        stored_at, snapshots = entry
        if time.monotonic() - stored_at > TTL_SECONDS:
            self._entries.pop(entry_key, None)
            return None
        return tuple(_attach(session.sync_session, model, values) for model, values in snapshots)

    def put(self, session: AsyncSession, kind: str, key: str, rows: Sequence[Base]) -> None:
        """Store copies of ``rows``, as ``session`` loaded them, under ``key``."""
        entry_key = (_database(session.sync_session), kind, key)
        self._entries[entry_key] = (time.monotonic(), tuple(_snapshot(row) for row in rows))
        self._entries.move_to_end(entry_key)
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)

    def drop(self, database: URL, kind: str, key: str) -> None:
        if key == "*":
            for entry_key in [k for k in self._entries if k[0] == database and k[1] == kind]:
                del self._entries[entry_key]
        else:
            self._entries.pop((database, kind, key), None)

    def stale_after_change(self, rows: Iterable[object]) -> set[tuple[str, str]]:
        """The (kind, key) entries that changes to ``rows`` make stale."""
        stale: set[tuple[str, str]] = set()
        for row in rows:
            for kind, model, key_attribute in self._kinds:
                if isinstance(row, model):
                    key = "*" if key_attribute == "*" else str(getattr(row, key_attribute))
                    stale.add((kind, key))
        return stale

    def stale_after_statement(self, model: type[Any]) -> set[tuple[str, str]]:
        """The entries an UPDATE or DELETE statement on ``model`` may make stale: all of its kinds."""
        return {(kind, "*") for kind, cached_model, _ in self._kinds if issubclass(model, cached_model)}


ROWS = RowCache()
"""The process's cache: shared by every engine and session of the process, keyed by
database, so that a change made through any of them drops the copies."""


def _database(session: Session) -> URL:
    """The session's database: its engine's URL, compared by value (engines of one URL
    share their copies) and never rendered on this hot path."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    return engine.url


def _snapshot(row: Base) -> _Snapshot:
    mapper = inspect(type(row))
    return type(row), {
        attribute.key: copy.deepcopy(getattr(row, attribute.key)) for attribute in mapper.column_attrs
    }


def _attach(session: Session, model: type[RowT], values: dict[str, Any]) -> RowT:
    """A persistent instance of ``model`` with ``values`` in ``session``, without a query
    (the one already in the session's identity map, if it holds that row)."""
    mapper = inspect(model)
    identity = mapper.identity_key_from_primary_key(
        tuple(values[mapper.get_property_by_column(column).key] for column in mapper.primary_key)
    )
    present = session.identity_map.get(identity)
    if present is not None:
        return cast(RowT, present)
    row = model(**copy.deepcopy(values))
    make_transient_to_detached(row)
    session.add(row)
    return row


def _drop(session: Session, stale: set[tuple[str, str]]) -> None:
    database = _database(session)
    for kind, key in stale:
        ROWS.drop(database, kind, key)


@event.listens_for(Session, "after_flush")
def _drop_changed_rows(session: Session, _context: Any) -> None:
    stale = ROWS.stale_after_change([*session.dirty, *session.deleted])
    if stale:
        _drop(session, stale)
        session.info.setdefault(_STALE, set()).update(stale)


@event.listens_for(Session, "do_orm_execute")
def _drop_after_bulk_change(state: Any) -> None:
    if not (state.is_update or state.is_delete) or state.bind_mapper is None:
        return
    stale = ROWS.stale_after_statement(state.bind_mapper.class_)
    if stale:
        _drop(state.session, stale)
        state.session.info.setdefault(_STALE, set()).update(stale)


@event.listens_for(Session, "after_commit")
def _drop_again_after_commit(session: Session) -> None:
    stale = session.info.pop(_STALE, None)
    if stale:
        _drop(session, stale)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, _previous: Any) -> None:
    session.info.pop(_STALE, None)
