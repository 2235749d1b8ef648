"""Counters held by this process (the single-node default)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from causerie.domain.windows import window_of

MAX_KEYS = 100_000  # past this, windows that have ended are dropped


class MemoryCounters:
    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (window index, count)
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, stamp)
        self._scores: dict[str, tuple[float, float]] = {}  # key -> (score, stamp)

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

    async def take(self, key: str, now: datetime, rate: float, burst: float) -> float:
        stamp = now.timestamp()
        tokens, last = self._buckets.get(key, (burst, stamp))
        if stamp > last:
            tokens, last = min(burst, tokens + (stamp - last) * rate), stamp
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / rate
        self._buckets[key] = (tokens, last)
        if len(self._buckets) > MAX_KEYS:  # full buckets are as good as none
            self._buckets = {
                k: (t, s) for k, (t, s) in self._buckets.items() if (stamp - s) * rate + t < burst
            }
        return wait

    async def take_each(
        self, buckets: Sequence[tuple[str, float, float]], now: datetime
    ) -> tuple[int, float]:
        for index, (key, rate, burst) in enumerate(buckets):
            wait = await self.take(key, now, rate, burst)
            if wait > 0:
                return index, wait
        return -1, 0.0

    async def score(self, key: str, now: datetime, add: float, half_life: timedelta) -> float:
        stamp = now.timestamp()
        value, last = self._scores.get(key, (0.0, stamp))
        if stamp > last:
            value *= math.pow(0.5, (stamp - last) / half_life.total_seconds())
            last = stamp
        value += add
        if value < 0.01:
            self._scores.pop(key, None)
            return 0.0
        if add:
            self._scores[key] = (value, last)
            if len(self._scores) > MAX_KEYS:
                self._scores = dict(sorted(self._scores.items(), key=lambda i: -i[1][0])[:1000])
        return value

    async def close(self) -> None:
        self._counts.clear()
        self._buckets.clear()
        self._scores.clear()
