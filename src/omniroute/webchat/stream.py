"""A visitor's live stream (Server-Sent Events): every message of its conversation it has
not seen, as it becomes visible, each marked ``delivered`` (``stream``) once written.

The stream registers itself (``webchat_streams``) so the dispatcher knows to notify it
instead of pushing, subscribes to the broker for its visitor, and between notifications
looks again every ``poll_seconds`` (a notification only wakes it: nothing is lost when
one is). Each event's id is the message id; a reconnect with ``Last-Event-ID`` continues
after it, and a business message handed over but not yet delivered is sent whatever its
id (ids follow acceptance, not hand-over, order)."""

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import TypeVar

import anyio
from sqlalchemy import delete, or_, update

from omniroute.core.ids import new_id
from omniroute.core.time import utcnow
from omniroute.messages.models import Direction, Message, MessageStatus
from omniroute.webchat import service
from omniroute.webchat.delivery import STREAM_TTL, WebChatContext
from omniroute.webchat.models import Visitor, VisitorStream
from omniroute.webchat.schemas import WidgetMessage
from omniroute.workspaces.models import Workspace

T = TypeVar("T")

HEARTBEAT_SECONDS = 15.0
PENDING_POLL_SECONDS = 0.2
PENDING_GIVE_UP_SECONDS = 30.0
"""A notified message not visible by then (it failed) is no longer waited for."""
MAX_STREAM_SECONDS = 300.0
"""A stream ends after this and the browser reconnects (``retry``) with its last event id:
proxies and load balancers are kinder to streams that do not live forever."""
RETRY_MILLISECONDS = 2000
BATCH = 200


@dataclass(frozen=True)
class StreamOptions:
    poll_seconds: float
    heartbeat_seconds: float = HEARTBEAT_SECONDS
    max_seconds: float = MAX_STREAM_SECONDS


def options_for(context: WebChatContext) -> StreamOptions:
    """With PostgreSQL's notifications a stream looks on its own only at heartbeats;
    SQLite's in-process broker does not hear a worker in another process, so it looks
    every second."""
    return StreamOptions(poll_seconds=1.0 if context.db.is_sqlite else HEARTBEAT_SECONDS)


def sse(event: str, data: str, event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event}\ndata: {data}\n\n"


async def events(
    context: WebChatContext, visitor: Visitor, last_event_id: str | None, options: StreamOptions
) -> AsyncIterator[str]:
    stream_id = new_id("vst")
    floor = last_event_id or await _shielded(_latest_id(context, visitor))
    written: set[str] = set()
    pending: dict[str, float] = {}
    started = time.monotonic()
    await _shielded(_register(context, stream_id, visitor.id))
    with context.broker.subscribe(visitor.id) as notes:
        try:
            yield f"retry: {RETRY_MILLISECONDS}\n\n"
            beat = time.monotonic()
            while time.monotonic() - started < options.max_seconds:
                for message in await _shielded(_unseen(context, visitor, floor, written)):
                    written.add(message.id)
                    pending.pop(message.id, None)
                    payload = WidgetMessage.of(message).model_dump_json()
                    yield sse("message", payload, message.id)
                    if message.direction == Direction.OUTBOUND and message.status == MessageStatus.SENT:
                        await _shielded(_delivered(context, visitor, message.id))
                now = time.monotonic()
                pending = {m: since for m, since in pending.items() if now - since < PENDING_GIVE_UP_SECONDS}
                wait = (
                    PENDING_POLL_SECONDS if pending else min(options.poll_seconds, options.heartbeat_seconds)
                )
                with contextlib.suppress(TimeoutError):
                    note = await asyncio.wait_for(notes.get(), wait)
                    if isinstance(note.get("message"), str) and note["message"] not in written:
                        pending[note["message"]] = time.monotonic()
                if time.monotonic() - beat >= options.heartbeat_seconds:
                    beat = time.monotonic()
                    yield ": ping\n\n"
                    await _shielded(_refresh(context, stream_id))
            yield sse("reconnect", json.dumps({"after_ms": RETRY_MILLISECONDS}))
        finally:
            with anyio.CancelScope(shield=True):
                await _unregister(context, stream_id)


async def _shielded(work: Awaitable[T]) -> T:
    """Database work runs to its end even when the visitor hangs up meanwhile (the stream
    is cancelled at its next wait instead): a session cut off mid-query would be left for
    the pool to clean up."""
    with anyio.CancelScope(shield=True):
        result = await work
    return result  # noqa: RET504 - mypy sees a `with` that could swallow the return


async def _latest_id(context: WebChatContext, visitor: Visitor) -> str | None:
    async with context.db.sessionmaker() as session:
        latest: str | None = await session.scalar(
            service.conversation_messages(visitor)
            .with_only_columns(Message.id)
            .order_by(Message.id.desc())
            .limit(1)
        )
    return latest


async def _unseen(
    context: WebChatContext, visitor: Visitor, floor: str | None, written: set[str]
) -> list[Message]:
    """Messages after ``floor``, and handed-over replies no widget has received yet."""
    statement = service.conversation_messages(visitor)
    if floor is not None:
        statement = statement.where(
            or_(
                Message.id > floor,
                (Message.direction == Direction.OUTBOUND) & (Message.status == MessageStatus.SENT),
            )
        )
    async with context.db.sessionmaker() as session:
        rows = await session.scalars(statement.order_by(Message.id).limit(BATCH + len(written)))
        return [row for row in rows if row.id not in written]


async def _delivered(context: WebChatContext, visitor: Visitor, message_id: str) -> None:
    async with context.db.transaction() as session:
        workspace = await session.get(Workspace, visitor.workspace_id)
        assert workspace is not None
        now = workspace.now(visitor.mode)
        await service.mark(
            session, visitor, message_id, MessageStatus.DELIVERED, now, detail="stream", only=[message_id]
        )


async def _register(context: WebChatContext, stream_id: str, visitor_id: str) -> None:
    async with context.db.transaction() as session:
        session.add(VisitorStream(id=stream_id, visitor_id=visitor_id, expires_at=utcnow() + STREAM_TTL))


async def _refresh(context: WebChatContext, stream_id: str) -> None:
    async with context.db.transaction() as session:
        await session.execute(
            update(VisitorStream)
            .where(VisitorStream.id == stream_id)
            .values(expires_at=utcnow() + STREAM_TTL)
        )


async def _unregister(context: WebChatContext, stream_id: str) -> None:
    async with context.db.transaction() as session:
        await session.execute(delete(VisitorStream).where(VisitorStream.id == stream_id))
        await session.execute(delete(VisitorStream).where(VisitorStream.expires_at < utcnow()))
