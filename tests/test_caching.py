"""`caching.TtlCache`: entries expire `seconds` after they were set, the oldest go first past the
size bound, and a dropped entry is never served again. The timer is the test's."""

from __future__ import annotations

import pytest

from causerie.caching import TtlCache, ttl_cache


class Timer:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_is_served_until_its_seconds_are_over_then_dropped() -> None:
    timer = Timer()
    cache: TtlCache[str, int] = TtlCache(5.0, timer=timer)
    cache["a"] = 1
    timer.now += 4.999
    assert cache.get("a") == 1
    timer.now += 0.001
    assert cache.get("a") is None and cache.get("a", 7) == 7
    assert len(cache) == 0  # the expired entry went on that read


def test_setting_again_restarts_the_entrys_time() -> None:
    timer = Timer()
    cache: TtlCache[str, int] = TtlCache(5.0, timer=timer)
    cache["a"] = 1
    timer.now += 4
    cache["a"] = 2
    timer.now += 4
    assert cache.get("a") == 2


def test_pop_and_clear_drop_entries_and_pop_gives_only_a_fresh_value() -> None:
    timer = Timer()
    cache: TtlCache[str, int] = TtlCache(5.0, timer=timer)
    cache["a"], cache["b"], cache["c"] = 1, 2, 3
    assert cache.pop("a") == 1 and cache.get("a") is None
    assert cache.pop("a") is None and cache.pop("missing", 9) == 9
    timer.now += 6
    assert cache.pop("b") is None  # expired: not a value to hand back
    cache.clear()
    assert cache.get("c") is None and len(cache) == 0


def test_past_its_size_the_entries_set_longest_ago_go_first() -> None:
    timer = Timer()
    cache: TtlCache[int, str] = TtlCache(5.0, max_entries=3, timer=timer)
    for key in range(3):
        cache[key] = str(key)
        timer.now += 1
    cache[0] = "again"  # set again: now the newest
    cache[3] = "3"
    assert [cache.get(k) for k in range(4)] == ["again", None, "2", "3"]
    timer.now += 10  # all expired: a new key makes room without pushing out a fresh one
    cache[4] = "4"
    assert len(cache) == 1 and cache.get(4) == "4"


def test_a_cache_must_keep_something() -> None:
    with pytest.raises(ValueError):
        ttl_cache(0)
    with pytest.raises(ValueError):
        TtlCache(5.0, max_entries=0)
