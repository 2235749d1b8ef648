"""The login limits' counters: the same contract in this process and in Redis (shared by nodes).

A hit is counted atomically and returns the window's count (what lets the login count an attempt
before checking its password); a release gives one back, never below zero.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from causerie.counters.memory import MemoryCounters
from causerie.counters.redis import RedisCounters
from causerie.domain.ports import Counters
from tests.redis_support import shared_redis_url, unique

WINDOW = timedelta(minutes=15)
NOW = datetime(2026, 12, 6, 12, 1, tzinfo=UTC)


def _run(make: Callable[[], Counters], test: Callable[[Counters], Awaitable[None]]) -> None:
    async def body() -> None:
        counters = make()
        try:
            await test(counters)
        finally:
            await counters.close()

    asyncio.run(body())


@pytest.fixture(params=["memory", "redis"])
def make(request: pytest.FixtureRequest) -> Callable[[], Counters]:
    if request.param == "memory":
        return MemoryCounters
    url = shared_redis_url()
    return lambda: RedisCounters(url)


def test_concurrent_hits_each_get_their_own_count(make: Callable[[], Counters]) -> None:
    key = unique("test:hits")

    async def test(counters: Counters) -> None:
        counts = await asyncio.gather(*(counters.hit(key, NOW, WINDOW) for _ in range(20)))
        assert sorted(counts) == list(range(1, 21))
        assert await counters.count(key, NOW, WINDOW) == 20
        assert await counters.count(key, NOW + WINDOW, WINDOW) == 0  # the next window

    _run(make, test)


def test_release_gives_one_back_never_below_zero(make: Callable[[], Counters]) -> None:
    key = unique("test:release")

    async def test(counters: Counters) -> None:
        await counters.hit(key, NOW, WINDOW)
        await counters.hit(key, NOW, WINDOW)
        await counters.release(key, NOW, WINDOW)
        assert await counters.count(key, NOW, WINDOW) == 1
        await counters.release(key, NOW, WINDOW)
        await counters.release(key, NOW, WINDOW)
        assert await counters.count(key, NOW, WINDOW) == 0
        assert await counters.hit(key, NOW, WINDOW) == 1
        await counters.release(key, NOW + WINDOW, WINDOW)  # another window: nothing to give
        assert await counters.count(key, NOW, WINDOW) == 1
        await counters.reset(key)
        assert await counters.count(key, NOW, WINDOW) == 0

    _run(make, test)
