"""Counters held by this process (the single-node default)."""

from __future__ import annotations

from datetime import datetime, timedelta

from causerie.domain.windows import window_of

MAX_KEYS = 100_000  # past this, windows that have ended are dropped


class MemoryCounters:
    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (window index, count)

    async def hit(self, key: str, now: datetime, window: timedelta) -> int:
        index = window_of(now, window)
        current, count = self._counts.get(key, (index, 0))
        count = count + 1 if current == index else 1
        self._counts[key] = (index, count)
        if len(self._counts) > MAX_KEYS:
            self._counts = {k: v for k, v in self._counts.items() if v[0] >= index}
        return count

    async def count(self, key: str, now: datetime, window: timedelta) -> int:
        current, count = self._counts.get(key, (-1, 0))
        return count if current == window_of(now, window) else 0

    async def release(self, key: str, now: datetime, window: timedelta) -> None:
        current, count = self._counts.get(key, (-1, 0))
        if current == window_of(now, window) and count > 0:
            self._counts[key] = (current, count - 1)

    async def reset(self, key: str) -> None:
        self._counts.pop(key, None)

    async def close(self) -> None:
        self._counts.clear()
