"""`cached` (caching.py): one look-up in cachetools' TTLCache, as `cache.get(key)` answers it: the
fresh entry, None for a key never set, expired, or pushed out. The clock is moved, never waited."""

from __future__ import annotations

from cachetools import TTLCache

from causerie.caching import cached, ttl_cache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_look_up_answers_as_get_does_fresh_missing_expired_and_pushed_out() -> None:
    clock = Clock()
    cache: TTLCache[str, tuple[str, ...]] = TTLCache(maxsize=2, ttl=5.0, timer=clock)
    cache["a"] = ("x",)
    cache["empty"] = ()
    for key in ("a", "empty", "never"):
        assert cached(cache, key) == cache.get(key)
    assert cached(cache, "empty") == ()  # a value that is false is still found
    assert cached(cache, "never") is None
    clock.now = 4.9
    assert cached(cache, "a") == ("x",)
    clock.now = 5.0  # expired when its time is reached, as cachetools has it
    assert cached(cache, "a") is None and cache.get("a") is None
    cache["b"] = ("b",)
    cache["c"] = ("c",)
    cache["d"] = ("d",)  # the bound is 2, none expired: the least recently used goes
    assert cached(cache, "b") is None
    assert cached(cache, "c") == ("c",) and cached(cache, "d") == ("d",)


def test_the_causerie_cache_is_read_by_it() -> None:
    cache: TTLCache[str, int] = ttl_cache(60.0)
    cache["k"] = 1
    assert cached(cache, "k") == 1
    assert cached(cache, "other") is None
