"""The one kind of cache Causerie keeps: a time-bounded, size-bounded mapping, for rows read on
hot paths that change rarely (websites, block rules, the origins the chatbox may run on).

Each node caches for a few seconds; a change made on this node drops the entry at once, one made
on another node is seen within `seconds`. Past `MAX_ENTRIES`, setting a new key pushes out the
entry set longest ago (the nearest to expiring). The clock is `time.monotonic` (a wall-clock
jump neither keeps nor drops an entry). The event loop is the only thread that reads or writes
these caches, so they need no lock.

Our own rather than cachetools' `TTLCache`: a read is one dict lookup and one clock read, about
0.5 µs against 4-8 µs, and the chatbox load reads two of these caches (docs/performance.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar, overload

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")

MAX_ENTRIES = 10_000


class TtlCache(Generic[K, V]):
    """A mapping whose entries expire `seconds` after they were set."""

    __slots__ = ("_entries", "_timer", "max_entries", "seconds")

    def __init__(
        self,
        seconds: float,
        max_entries: int = MAX_ENTRIES,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        if seconds <= 0 or max_entries < 1:
            raise ValueError("a cache keeps at least one entry for some time")
        self.seconds = seconds
        self.max_entries = max_entries
        self._timer = timer
        # key -> (expiry on the timer, value), in the order they were set
        self._entries: dict[K, tuple[float, V]] = {}

    @overload
    def get(self, key: K) -> V | None: ...
    @overload
    def get(self, key: K, default: D) -> V | D: ...
    def get(self, key: K, default: object = None) -> object:
        entry = self._entries.get(key)
        if entry is None:
            return default
        if entry[0] <= self._timer():
            del self._entries[key]
            return default
        return entry[1]

    def __setitem__(self, key: K, value: V) -> None:
        entries = self._entries
        if entries.pop(key, None) is None and len(entries) >= self.max_entries:
            self._make_room()
        entries[key] = (self._timer() + self.seconds, value)

    def _make_room(self) -> None:
        # Every entry lives `seconds`, so the order they were set in is the order they expire
        # in: the expired ones, then the oldest, are at the front.
        entries, now = self._entries, self._timer()
        while entries:
            key, (expiry, _) = next(iter(entries.items()))
            if expiry > now and len(entries) < self.max_entries:
                break
            del entries[key]

    def pop(self, key: K, default: V | None = None) -> V | None:
        """Drop `key`'s entry; its value if it was fresh, else `default`."""
        entry = self._entries.pop(key, None)
        return entry[1] if entry is not None and entry[0] > self._timer() else default

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        """Entries held, some possibly expired but not yet dropped."""
        return len(self._entries)


def ttl_cache(seconds: float, max_entries: int = MAX_ENTRIES) -> TtlCache[K, V]:
    """A mapping whose entries expire `seconds` after they were set."""
    return TtlCache(seconds, max_entries)
