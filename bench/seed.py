"""Bulk temporary sessions and a timed purge, on any Causerie store.

Used in the bench process (purge rate) and inside a server through `bench.hooks` (purge stall).
Sessions go through the store's own `insert_session`, in a few large transactions.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from causerie.actions.retention import do_purge
from causerie.domain.models import Session, SessionState
from causerie.domain.ports import Store, Tx
from causerie.runtime import Runtime
from causerie.tokens import hash_token, new_id, new_token

SEED_BATCH = 10_000


async def seed_sessions(
    store: Store, website_id: str, count: int, at: datetime, batch: int = SEED_BATCH
) -> float:
    """Insert `count` temporary sessions last accessed `at`; return the seconds it took."""
    start = time.perf_counter()
    done = 0
    while done < count:
        size = min(batch, count - done)
        async with store.transaction() as tx:
            for i in range(size):
                await tx.sessions.insert(
                    _session(website_id, at, done + i), hash_token(new_token())
                )
        done += size
    return time.perf_counter() - start


def _session(website_id: str, at: datetime, n: int) -> Session:
    return Session(
        id=new_id(),
        website_id=website_id,
        state=SessionState.TEMPORARY,
        created_at=at,
        last_access_at=at,
        ip=f"127.0.{(n >> 8) & 255}.{n & 255}",
        ip_seen_at=at,
        user_agent="causerie-bench",
        locale="en",
        timezone="Europe/Paris",
        page_url="https://shop.example/products/42",
        page_title="A product",
        page_referrer="",
    )


@dataclass
class TransactionTimes:
    """Wall time of each transaction the purge ran, and of its final cleanup (`after_purge`)."""

    transactions: list[float] = field(default_factory=list)
    after_purge: float = 0.0


class TimedStore:
    """A `Store` that times every transaction it hands out, to see how long each one holds the
    event loop (on SQLite a transaction runs on the loop's thread)."""

    def __init__(self, inner: Store, times: TransactionTimes) -> None:
        self._inner = inner
        self._times = times

    def __getattr__(self, name: str) -> Any:
        # Whatever else the store offers (its port grows with the code) is the inner store's.
        return getattr(self._inner, name)

    @asynccontextmanager
    async def transaction(self, *args: Any, **kwargs: Any) -> AsyncIterator[Tx]:
        # Timed from the moment the store hands the transaction out (not while waiting for it)
        # until its commit is acknowledged.
        inner = self._inner.transaction(*args, **kwargs)
        tx = await inner.__aenter__()
        start = time.perf_counter()
        try:
            yield tx
        except BaseException as exc:
            if not await inner.__aexit__(type(exc), exc, exc.__traceback__):
                raise
        else:
            await inner.__aexit__(None, None, None)
        finally:
            self._times.transactions.append(time.perf_counter() - start)

    async def after_purge(self) -> None:
        start = time.perf_counter()
        await self._inner.after_purge()
        self._times.after_purge = time.perf_counter() - start

    async def close(self) -> None:
        await self._inner.close()


@dataclass(frozen=True)
class PurgeTiming:
    removed: dict[str, int]
    seconds: float
    transactions: int
    longest_transaction: float
    after_purge: float

    @property
    def sessions_per_second(self) -> float:
        return self.removed.get("temporary_sessions", 0) / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "removed": self.removed,
            "seconds": self.seconds,
            "transactions": self.transactions,
            "longest_transaction": self.longest_transaction,
            "after_purge": self.after_purge,
        }


async def timed_purge(rt: Runtime) -> PurgeTiming:
    """Run `do_purge` as the server does, on a store that times each of its transactions."""
    times = TransactionTimes()
    timed_rt = replace(rt, store=TimedStore(rt.store, times))
    start = time.perf_counter()
    removed = await do_purge(timed_rt)
    seconds = time.perf_counter() - start
    return PurgeTiming(
        removed=removed,
        seconds=seconds,
        transactions=len(times.transactions),
        longest_transaction=max(times.transactions, default=0.0),
        after_purge=times.after_purge,
    )
