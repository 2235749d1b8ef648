"""Per-network counts in Redis: one hash per window, `causerie:shield:<window index>`, fields
`<network hash>|<metric>`, expiring `CAUSERIE_SHIELD_RETENTION` after the window."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from causerie.broker.redis_client import KEY_PREFIX, REDIS_DOWN, open_client
from causerie.domain.shield import AGGREGATE_WINDOW
from causerie.domain.windows import window_of

log = logging.getLogger("causerie.shield")
TIMEOUT = 2.0


class RedisAggregates:
    def __init__(self, url: str, retention: timedelta) -> None:
        self._redis = open_client(url, TIMEOUT)
        self._ttl = int((retention + AGGREGATE_WINDOW).total_seconds())

    async def add(self, network: str, metric: str, now: datetime, n: int = 1) -> None:
        name = f"{KEY_PREFIX}shield:{window_of(now, AGGREGATE_WINDOW)}"
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hincrby(name, f"{network}|{metric}", n)
                pipe.expire(name, self._ttl)
                await pipe.execute()
        except REDIS_DOWN as exc:
            log.warning("a shield count was lost while Redis is unreachable: %s", exc)

    async def read(self, since: datetime, now: datetime) -> list[tuple[datetime, str, str, int]]:
        first, last = window_of(since, AGGREGATE_WINDOW), window_of(now, AGGREGATE_WINDOW)
        seconds = AGGREGATE_WINDOW.total_seconds()
        indexes = list(range(first, last + 1))
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for index in indexes:
                    pipe.hgetall(f"{KEY_PREFIX}shield:{index}")
                found = await pipe.execute()
        except REDIS_DOWN as exc:
            log.warning("shield counts unreadable while Redis is unreachable: %s", exc)
            return []
        rows = []
        for index, fields in zip(indexes, found, strict=True):
            start = datetime.fromtimestamp(index * seconds, UTC)
            for field, value in fields.items():
                text = field.decode() if isinstance(field, bytes) else str(field)
                network, _, metric = text.partition("|")
                rows.append((start, network, metric, int(value)))
        return rows

    async def close(self) -> None:
        await self._redis.aclose()
