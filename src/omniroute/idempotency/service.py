import hashlib
import json
from dataclasses import dataclass, replace
from datetime import timedelta

from fastapi import Request, Response
from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.core.errors import ConflictError, InvalidRequestError
from omniroute.core.time import utcnow
from omniroute.idempotency.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class PendingKey:
    """An idempotency key seen on this request, to be stored with its response."""

    workspace_id: str
    mode: str
    key: str
    request_hash: str
    withheld: tuple[str, ...] = ()
    """Top-level response fields never stored (one-time secrets): a replay shows them null."""


def withhold(request: Request, *fields: str) -> None:
    """This request's response carries one-time secrets in ``fields`` (e.g. a new API key,
    of which only the hash may be stored): its idempotent replay goes without them."""
    pending: PendingKey | None = getattr(request.state, "idempotency", None)
    if pending is not None:
        request.state.idempotency = replace(pending, withheld=fields)


def expired(ttl: timedelta) -> ColumnElement[bool]:
    """Records older than the TTL: ignored by lookups, replaced by a new use of the key,
    and deleted by the hourly purge."""
    return IdempotencyRecord.created_at <= utcnow() - ttl


async def purge_expired(session: AsyncSession, ttl: timedelta) -> None:
    await session.execute(delete(IdempotencyRecord).where(expired(ttl)))


class IdempotentReplay(Exception):
    """The first response to this key, returned again instead of redoing the work."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__(record.key)
        self.status_code = record.status_code
        self.body = record.response_body

    def response(self) -> Response:
        return Response(
            self.body,
            status_code=self.status_code,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )


async def request_hash(request: Request) -> str:
    body = await request.body()
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(request.method.encode() + request.url.path.encode() + b"\n" + canonical).hexdigest()


async def check(
    session: AsyncSession, request: Request, workspace_id: str, mode: str, ttl: timedelta
) -> PendingKey | None:
    """Replay, refuse, or remember the key for this request (POST only)."""
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None:
        return None
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidRequestError(
            "idempotency_key_invalid",
            f"The Idempotency-Key header must be 1-{MAX_KEY_LENGTH} characters.",
            param=HEADER,
        )
    digest = await request_hash(request)
    record = await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.workspace_id == workspace_id,
            IdempotencyRecord.mode == mode,
            IdempotencyRecord.key == key,
            ~expired(ttl),
        )
    )
    if record is not None:
        if record.request_hash != digest:
            raise ConflictError(
                "idempotency_conflict",
                "This Idempotency-Key was already used with a different request. Use a new key "
                "for a new request.",
                param=HEADER,
            )
        raise IdempotentReplay(record)
    # An expired record with the same key is replaced. Only an expired one: a record a
    # concurrent request committed since the lookup above must stand (its commit makes
    # ours fail on the key, and the first response is replayed).
    await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.workspace_id == workspace_id,
            IdempotencyRecord.mode == mode,
            IdempotencyRecord.key == key,
            expired(ttl),
        )
    )
    return PendingKey(workspace_id, mode, key, digest)


def remember(session: AsyncSession, pending: PendingKey, response: Response) -> None:
    """Store the response in the caller's transaction: it commits with the work or not at all."""
    body = bytes(response.body).decode()
    if pending.withheld:
        replayed = json.loads(body)
        body = json.dumps(replayed | {field: None for field in pending.withheld if field in replayed})
    session.add(
        IdempotencyRecord(
            workspace_id=pending.workspace_id,
            mode=pending.mode,
            key=pending.key,
            request_hash=pending.request_hash,
            status_code=response.status_code,
            response_body=body,
            created_at=utcnow(),  # real time: the 24 h replay guarantee is not test-mode data
        )
    )


async def stored(session: AsyncSession, pending: PendingKey) -> IdempotencyRecord | None:
    return await session.get(IdempotencyRecord, (pending.workspace_id, pending.mode, pending.key))
