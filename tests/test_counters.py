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


def test_a_token_bucket_takes_a_burst_then_refills_at_its_rate(
    make: Callable[[], Counters],
) -> None:
    key = unique("test:bucket")

    async def test(counters: Counters) -> None:
        taken = [await counters.take(key, NOW, 2.0, 3.0) for _ in range(4)]
        assert taken[:3] == [0.0, 0.0, 0.0]
        assert taken[3] == pytest.approx(0.5)  # one token comes back in half a second
        assert await counters.take(key, NOW + timedelta(seconds=0.25), 2.0, 3.0) > 0
        assert await counters.take(key, NOW + timedelta(seconds=0.5), 2.0, 3.0) == 0.0
        later = NOW + timedelta(hours=1)  # refilled up to the burst, never past it
        assert [await counters.take(key, later, 2.0, 3.0) for _ in range(4)][3] > 0

    _run(make, test)


def test_concurrent_takes_never_hand_out_more_than_the_burst(
    make: Callable[[], Counters],
) -> None:
    key = unique("test:bucket")

    async def test(counters: Counters) -> None:
        waits = await asyncio.gather(*(counters.take(key, NOW, 1.0, 5.0) for _ in range(20)))
        assert sum(1 for w in waits if w == 0) == 5

    _run(make, test)


def test_take_each_stops_at_the_first_bucket_without_a_token(
    make: Callable[[], Counters],
) -> None:
    first, second, third = unique("test:each"), unique("test:each"), unique("test:each")
    buckets = [(first, 1.0, 3.0), (second, 2.0, 1.0), (third, 1.0, 5.0)]

    async def test(counters: Counters) -> None:
        assert await counters.take_each(buckets, NOW) == (-1, 0.0)
        # The second is empty: refused there, the third left as it was.
        index, wait = await counters.take_each(buckets, NOW)
        assert (index, wait) == (1, pytest.approx(0.5))
        assert [await counters.take(third, NOW, 1.0, 5.0) for _ in range(4)] == [0.0] * 4
        assert await counters.take(third, NOW, 1.0, 5.0) > 0  # 5 in all: 1 by take_each
        # The first gave two tokens (one per call), as `take` would have: one left.
        assert await counters.take(first, NOW, 1.0, 3.0) == 0.0
        index, wait = await counters.take_each(buckets, NOW)
        assert (index, wait) == (0, pytest.approx(1.0))
        later = NOW + timedelta(seconds=1)  # the second refilled: a token each again
        assert await counters.take_each(buckets[:2], later) == (-1, 0.0)
        assert await counters.take_each([], later) == (-1, 0.0)

    _run(make, test)


def test_concurrent_take_each_never_hand_out_more_than_any_burst(
    make: Callable[[], Counters],
) -> None:
    wide, narrow = unique("test:each"), unique("test:each")
    buckets = [(wide, 1.0, 8.0), (narrow, 1.0, 3.0)]

    async def test(counters: Counters) -> None:
        results = await asyncio.gather(*(counters.take_each(buckets, NOW) for _ in range(12)))
        indexes = sorted(index for index, _ in results)
        # 3 through both; the wide one's other 5 tokens went to refusals by the narrow one.
        assert indexes == [-1] * 3 + [0] * 4 + [1] * 5

    _run(make, test)


def test_a_score_halves_every_half_life(make: Callable[[], Counters]) -> None:
    key = unique("test:score")
    half = timedelta(minutes=10)

    async def test(counters: Counters) -> None:
        assert await counters.score(key, NOW, 0, half) == 0
        assert await counters.score(key, NOW, 8, half) == pytest.approx(8)
        assert await counters.score(key, NOW + half, 0, half) == pytest.approx(4)
        assert await counters.score(key, NOW + half, 2, half) == pytest.approx(6)
        assert await counters.score(key, NOW + 3 * half, 0, half) == pytest.approx(1.5)
        assert await counters.score(key, NOW + 20 * half, 0, half) == 0  # forgotten

    _run(make, test)


def test_windows_of_seconds_start_on_the_callers_clock_and_are_shared(
    make: Callable[[], Counters],
) -> None:
    """The shield's pace sign (`HASTY_WINDOW`, 10 s): hits counted by one node are the other
    node's too (two clients of one Redis; in this process, one object), within the window of
    the caller's clock, and the next window starts from zero."""
    key = unique("test:pace")
    window = timedelta(seconds=10)
    start = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)  # a window's start

    async def test(counters: Counters) -> None:
        other = make() if isinstance(counters, RedisCounters) else counters
        try:
            assert await counters.hit(key, start + timedelta(seconds=1), window) == 1
            assert await other.hit(key, start + timedelta(seconds=9.9), window) == 2
            assert await counters.count(key, start + timedelta(seconds=5), window) == 2
            assert await other.hit(key, start + window, window) == 1  # the next window
            assert await counters.count(key, start + window + timedelta(seconds=9), window) == 1
        finally:
            if other is not counters:
                await other.close()

    _run(make, test)
