"""A transaction cancelled while it waits for a group of the other durability to commit (a
client that went away) leaves the SQLite store's lock as it found it: the next transactions go
through, and no other transaction's lock is released for it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from causerie.store.database import SqliteStore, open_store


async def _cancel_while_waiting(store: SqliteStore, turns: int) -> None:
    go = asyncio.Event()

    async def holder() -> None:
        async with store.transaction(durable=False):
            await go.wait()

    async def waiter() -> None:
        async with store.transaction(durable=True):
            pass

    held = asyncio.create_task(holder())
    waiting = asyncio.create_task(waiter())
    await asyncio.sleep(0)  # the holder has the lock and a group; the waiter queues for it
    go.set()
    for _ in range(turns):
        await asyncio.sleep(0)
    waiting.cancel()
    results = await asyncio.wait_for(asyncio.gather(held, waiting, return_exceptions=True), 5)
    assert results[0] is None
    assert results[1] is None or isinstance(results[1], asyncio.CancelledError), results[1]
    # The store goes on: a transaction of each kind commits, and nothing holds the lock after.
    for durable in (True, False, True):
        await asyncio.wait_for(_one(store, durable), 5)
    assert not store._lock.locked()


async def _one(store: SqliteStore, durable: bool) -> None:
    async with store.transaction(durable=durable):
        pass


@pytest.mark.parametrize("turns", range(8))
def test_a_transaction_cancelled_while_waiting_for_the_other_group_frees_nothing_it_lacks(
    tmp_path: Path, turns: int
) -> None:
    async def scenario() -> None:
        store = open_store(f"sqlite:///{tmp_path / 'cancel.db'}")
        assert isinstance(store, SqliteStore)
        try:
            await _cancel_while_waiting(store, turns)
        finally:
            await store.close()

    asyncio.run(scenario())
