"""Counters shared by every node through Redis: one key per counter and window, expiring with it.

Keys: `causerie:count:<key>:<window index>`. A key outlives its window by a minute at most.
When Redis cannot be reached, `hit` and `count` raise `BrokerUnavailable`; callers decide (the
login refuses to guess and answers 503 rather than let attempts through uncounted).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from causerie.broker import BrokerUnavailable
from causerie.broker.redis_client import KEY_PREFIX, REDIS_DOWN, open_client
from causerie.domain.windows import window_of

TIMEOUT = 2.0
# One hit back, atomically, and only from a window that still has some.
_RELEASE = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return 0
"""


class RedisCounters:
    def __init__(self, url: str) -> None:
        self._redis = open_client(url, TIMEOUT)

    def _key(self, key: str, now: datetime, window: timedelta) -> str:
        return f"{KEY_PREFIX}count:{key}:{window_of(now, window)}"

    async def hit(self, key: str, now: datetime, window: timedelta) -> int:
        name = self._key(key, now, window)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, int(window.total_seconds()) + 60)
                count, _ = await pipe.execute()
        except REDIS_DOWN as exc:
            raise BrokerUnavailable(f"Redis: {exc}") from exc
        return int(count)

    async def count(self, key: str, now: datetime, window: timedelta) -> int:
        try:
            value = await self._redis.get(self._key(key, now, window))
        except REDIS_DOWN as exc:
            raise BrokerUnavailable(f"Redis: {exc}") from exc
        return int(value or 0)

    async def release(self, key: str, now: datetime, window: timedelta) -> None:
        try:
            await self._redis.eval(_RELEASE, 1, self._key(key, now, window))
        except REDIS_DOWN as exc:
            raise BrokerUnavailable(f"Redis: {exc}") from exc

    async def reset(self, key: str) -> None:
        try:
            names = [name async for name in self._redis.scan_iter(f"{KEY_PREFIX}count:{key}:*")]
            if names:
                await self._redis.delete(*names)
        except REDIS_DOWN as exc:
            raise BrokerUnavailable(f"Redis: {exc}") from exc

    async def close(self) -> None:
        await self._redis.aclose()
