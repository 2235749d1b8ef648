"""Per-network counts in the store (no Redis: one node). Counted in memory and written in one
short transaction every `FLUSH_EVERY` seconds (and before a read, and at close), so a chatbox
load does not cost a write of its own."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

from causerie.clock import Clock
from causerie.domain.ports import Store
from causerie.domain.shield import AGGREGATE_WINDOW
from causerie.domain.windows import window_of

log = logging.getLogger("causerie.shield")
FLUSH_EVERY = 10.0  # seconds of the process's own clock
MAX_PENDING = 10_000  # past this many pending counts, they are written at once


class StoreAggregates:
    def __init__(self, store: Store, retention: timedelta, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._retention = retention
        self._pending: dict[tuple[int, str, str], int] = {}
        self._flushed = time.monotonic()
        self._lock = asyncio.Lock()

    async def add(self, network: str, metric: str, now: datetime, n: int = 1) -> None:
        key = (window_of(now, AGGREGATE_WINDOW), network, metric)
        self._pending[key] = self._pending.get(key, 0) + n
        if len(self._pending) > MAX_PENDING or time.monotonic() - self._flushed > FLUSH_EVERY:
            await self._flush(now)

    async def _flush(self, now: datetime) -> None:
        async with self._lock:
            pending, self._pending = self._pending, {}
            self._flushed = time.monotonic()
            if not pending:
                return
            seconds = AGGREGATE_WINDOW.total_seconds()
            rows = [
                (datetime.fromtimestamp(index * seconds, UTC), network, metric, n)
                for (index, network, metric), n in sorted(pending.items())
            ]
            try:
                async with self._store.transaction(durable=False) as tx:
                    await tx.shield.add_counts(rows)
                    await tx.shield.purge_counts(now - self._retention - AGGREGATE_WINDOW)
            except Exception as exc:  # counting never fails a request (a full disk, a lock)
                log.warning("%d shield counts were lost: %s", len(rows), exc)

    async def read(self, since: datetime, now: datetime) -> list[tuple[datetime, str, str, int]]:
        await self._flush(now)
        start = datetime.fromtimestamp(
            window_of(since, AGGREGATE_WINDOW) * AGGREGATE_WINDOW.total_seconds(), UTC
        )
        async with self._store.long_read() as tx:
            return await tx.shield.read_counts(start)

    async def close(self) -> None:
        await self._flush(self._clock.now())
