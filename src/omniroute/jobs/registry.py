"""Job kinds and their handlers. Each domain registers its handlers in its ``tasks.py``."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from omniroute.core.db import Database
from omniroute.jobs.queue import ClaimedJob

Handler = Callable[["JobContext", dict[str, Any]], Awaitable[None]]
BatchHandler = Callable[[Any, list["ClaimedJob"]], Awaitable[dict[str, "RetryLater"]]]
"""Runs a batch of claimed jobs of one kind with the process's services; returns the ones
to run again later, by job id (every other one is finished)."""

_HANDLERS: dict[str, Handler] = {}


@dataclass
class JobContext:
    """What a handler gets: the database and the process's services (providers, settings)."""

    db: Database
    services: Any  # omniroute.services.Services; typed loosely to avoid an import cycle
    attempt: int


class RetryLater(Exception):
    """Raised by a handler to run the job again after ``delay`` seconds."""

    def __init__(self, delay: float, reason: str) -> None:
        super().__init__(reason)
        self.delay = delay


def task(kind: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if kind in _HANDLERS:
            raise RuntimeError(f"job kind {kind!r} registered twice")
        _HANDLERS[kind] = handler
        return handler

    return register


def handler_for(kind: str) -> Handler | None:
    return _HANDLERS.get(kind)


_RECURRING: dict[str, float] = {}


def recurring(kind: str, every: float) -> Callable[[Handler], Handler]:
    """A task that runs every ``every`` seconds. Its job row has a fixed id, so however
    many worker processes start, exactly one instance exists."""

    def register(handler: Handler) -> Handler:
        async def run_then_reschedule(ctx: JobContext, payload: dict[str, Any]) -> None:
            await handler(ctx, payload)
            raise RetryLater(every, f"recurring: next run in {every:g}s")

        task(kind)(run_then_reschedule)
        _RECURRING[kind] = every
        return handler

    return register


def recurring_kinds() -> list[str]:
    return sorted(_RECURRING)
