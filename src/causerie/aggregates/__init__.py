"""The shield's per-network counts (P18): in Redis with a TTL when it is configured, else in the
store. Both pass the same contract tests (tests/test_shield_aggregates.py)."""

from __future__ import annotations

from datetime import timedelta

from causerie.clock import Clock
from causerie.domain.ports import Aggregates, Store


def open_aggregates(
    redis_url: str | None, store: Store, retention: timedelta, clock: Clock
) -> Aggregates:
    if redis_url is None:
        from causerie.aggregates.store import StoreAggregates

        return StoreAggregates(store, retention, clock)
    from causerie.aggregates.redis import RedisAggregates

    return RedisAggregates(redis_url, retention)
