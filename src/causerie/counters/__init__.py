"""Counters for rate limits (login attempts): per process, or shared between nodes in Redis.

Both count hits in fixed windows keyed by the caller's clock, so tests move time instead of
sleeping, and both pass the same contract tests (tests/test_counters.py).
"""

from __future__ import annotations

from causerie.domain.ports import Counters


def open_counters(redis_url: str | None) -> Counters:
    if redis_url is None:
        from causerie.counters.memory import MemoryCounters

        return MemoryCounters()
    from causerie.counters.redis import RedisCounters

    return RedisCounters(redis_url)
