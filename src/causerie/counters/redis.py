"""Counters shared by every node through Redis: one key per counter and window, expiring with it.

Keys: `causerie:count:<key>:<window index>`. A key outlives its window by a minute at most.
When Redis cannot be reached, `hit` and `count` raise `BrokerUnavailable`; callers decide (the
login refuses to guess and answers 503 rather than let attempts through uncounted).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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

# A token bucket refilled from the caller's clock: the seconds to wait, or 0 when a token was taken.
_BUCKET = """
local function take(key, rate, burst, now, ttl)
  rate, burst, now = tonumber(rate), tonumber(burst), tonumber(now)
  local v = redis.call('HMGET', key, 't', 's')
  local tokens, stamp = tonumber(v[1]) or burst, tonumber(v[2]) or now
  if now > stamp then tokens = math.min(burst, tokens + (now - stamp) * rate); stamp = now end
  local wait = 0
  if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
  redis.call('HSET', key, 't', tostring(tokens), 's', tostring(stamp))
  redis.call('EXPIRE', key, tonumber(ttl))
  return wait
end
"""
# One bucket (ARGV: rate, burst, now, ttl).
_TAKE = (
    _BUCKET
    + """
return tostring(take(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4]))
"""
)
# Each bucket of KEYS in turn until one has no token (ARGV: now, then rate, burst, ttl per key):
# {its index from 0, the wait}, or {-1, 0}.
_TAKE_EACH = (
    _BUCKET
    + """
for i = 1, #KEYS do
  local at = 3 * i - 1
  local wait = take(KEYS[i], ARGV[at], ARGV[at + 1], ARGV[1], ARGV[at + 2])
  if wait > 0 then return {tostring(i - 1), tostring(wait)} end
end
return {'-1', '0'}
"""
)
# A score halving every ARGV[3] seconds (ARGV: add, now, half-life, ttl); the score now.
_SCORE = """
local add, now, half = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 'v', 's')
local value, stamp = tonumber(v[1]) or 0, tonumber(v[2]) or now
if now > stamp then value = value * math.pow(0.5, (now - stamp) / half); stamp = now end
value = value + add
if value < 0.01 then redis.call('DEL', KEYS[1]); return '0' end
if add ~= 0 then
  redis.call('HSET', KEYS[1], 'v', tostring(value), 's', tostring(stamp))
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
end
return tostring(value)
"""


class RedisCounters:
    def __init__(self, url: str) -> None:
        self._redis = open_client(url, TIMEOUT)
        # Sent by their digest (EVALSHA), not in full with every call.
        self._release = self._redis.register_script(_RELEASE)
        self._take = self._redis.register_script(_TAKE)
        self._take_each = self._redis.register_script(_TAKE_EACH)
        self._score = self._redis.register_script(_SCORE)

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
            await self._release(keys=[self._key(key, now, window)])
        except REDIS_DOWN as exc:
            raise BrokerUnavailable(f"Redis: {exc}") from exc

    async def reset(self, key: str) -> None:
        try:
            names = [name async for name in self._redis.scan_iter(f"{KEY_PREFIX}count:{key}:*")]
            if names:
                await self._redis.delete(*names)
        except REDIS_DOWN as exc:
            raise BrokerUnavailable(f"Redis: {exc}") from exc

    async def take(self, key: str, now: datetime, rate: float, burst: float) -> float:
        args = (repr(rate), repr(burst), repr(now.timestamp()), _ttl(rate, burst))
        try:
            wait = await self._take(keys=[f"{KEY_PREFIX}bucket:{key}"], args=args)
        except REDIS_DOWN as exc:
            raise BrokerUnavailable(f"Redis: {exc}") from exc
        return float(wait)

    async def take_each(
        self, buckets: Sequence[tuple[str, float, float]], now: datetime
    ) -> tuple[int, float]:
        keys = [f"{KEY_PREFIX}bucket:{key}" for key, _, _ in buckets]
        args: list[str | int] = [repr(now.timestamp())]
        for _, rate, burst in buckets:
            args += (repr(rate), repr(burst), _ttl(rate, burst))
        try:
            index, wait = await self._take_each(keys=keys, args=args)
        except REDIS_DOWN as exc:
            raise BrokerUnavailable(f"Redis: {exc}") from exc
        return int(index), float(wait)

    async def score(self, key: str, now: datetime, add: float, half_life: timedelta) -> float:
        half = half_life.total_seconds()
        ttl = math.ceil(half * 10)  # by then a score has lost 99.9 % of itself
        args = (repr(add), repr(now.timestamp()), repr(half), ttl)
        try:
            value = await self._score(keys=[f"{KEY_PREFIX}score:{key}"], args=args)
        except REDIS_DOWN as exc:
            raise BrokerUnavailable(f"Redis: {exc}") from exc
        return float(value)

    async def close(self) -> None:
        await self._redis.aclose()


def _ttl(rate: float, burst: float) -> int:
    return math.ceil(burst / rate) + 60  # a full bucket is as good as none
