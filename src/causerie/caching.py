"""The one kind of cache Causerie keeps: cachetools' time-bounded, size-bounded mapping, for rows
read on hot paths that change rarely (websites, the origins the chatbox may run on).

Each node caches for a few seconds; a change made on this node drops the entry at once, one made
on another node is seen within `seconds`. Entries past `MAX_ENTRIES` push out the least recently
used. The clock is `time.monotonic` (a wall-clock jump neither keeps nor drops an entry).
The event loop is the only thread that reads or writes these caches, so they need no lock.
"""

from __future__ import annotations

import time
from typing import TypeVar

from cachetools import TTLCache

K = TypeVar("K")
V = TypeVar("V")

MAX_ENTRIES = 10_000


def ttl_cache(seconds: float, max_entries: int = MAX_ENTRIES) -> TTLCache[K, V]:
    """A mapping whose entries expire `seconds` after they were set."""
    return TTLCache(maxsize=max_entries, ttl=seconds, timer=time.monotonic)


def cached(cache: TTLCache[K, V], key: K) -> V | None:
    """The fresh entry of `key`, or None. `cache.get(key)` goes through `in` then `[]` (each
    reading the clock and the entry's expiry, in Python): three times the instructions of this
    one look-up (docs/performance.md, "renewal5"); a chatbox load makes two."""
    try:
        return cache[key]
    except KeyError:
        return None
