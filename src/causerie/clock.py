"""Time, injected: domain code asks a Clock, never `datetime.now()`, so tests can move it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    # `datetime.now(UTC)` itself, a call in C: as a method it was a Python call more, five a
    # visitor's message (docs/performance.md, `relay5`). A partial binds no instance.
    now: Callable[[], datetime] = partial(datetime.now, UTC)


class ManualClock:
    """A clock that moves only when told to; safe to share with a server thread."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now
