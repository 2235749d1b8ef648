"""A small time-bounded cache, for rows read on hot paths that change rarely (websites).

Each node caches for a few seconds; a change made on this node drops the entry at once, one made
on another node is seen within `seconds`.
"""

from __future__ import annotations

import time
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

MAX_ENTRIES = 10_000


class TtlCache(Generic[K, V]):
    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def put(self, key: K, value: V) -> None:
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self._seconds, value)

    def drop(self, key: K) -> None:
        self._entries.pop(key, None)
