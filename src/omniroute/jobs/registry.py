"""Job kinds and their handlers. Each domain registers its handlers in its ``tasks.py``."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from omniroute.core.db import Database

Handler = Callable[["JobContext", dict[str, Any]], Awaitable[None]]

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
