"""Calls due later, kept in one heap and served by one event loop timer.

A benchmark keeps thousands of messages between two statuses at any moment; a timer
per status (a handle, a closure, a copied context) would be several objects each for
the garbage collector to walk, while a heap entry here is one tuple."""

import asyncio
import heapq
import itertools
import logging
from collections.abc import Callable
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Timeline(Generic[T]):
    """Calls ``on_due(item)`` for each item once its time has come, in time order (items
    due at the same time in the order they were added)."""

    def __init__(self, on_due: Callable[[T], None]) -> None:
        self._on_due = on_due
        self._due: list[tuple[float, int, T]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    def __len__(self) -> int:
        return len(self._due)

    def add(self, delay: float, item: T) -> None:
        """Call ``on_due(item)`` in ``delay`` seconds."""
        loop = asyncio.get_running_loop()
        at = loop.time() + delay
        heapq.heappush(self._due, (at, next(self._order), item))
        if self._timer is None or at < self._timer_at:
            self._wake_at(loop, at)

    def clear(self) -> None:
        """Forget every pending item."""
        self._due.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _wake_at(self, loop: asyncio.AbstractEventLoop, at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at = loop.call_at(at, self._run_due), at

    def _run_due(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self._due and self._due[0][0] <= now:
            _, _, item = heapq.heappop(self._due)
            try:
                self._on_due(item)
            except Exception:
                logger.exception("a scheduled emulator event failed")
        if self._due and self._timer is None:
            self._wake_at(loop, self._due[0][0])
