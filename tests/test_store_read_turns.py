"""Reads and writers on the SQLite store's one connection (store/database.py, `_SqliteRead`).

Reads share the connection between writers' turns: a read waits only while a writer (a
transaction, a commit) holds it, a writer whose turn comes waits for the reads under way, and a
read never queues behind another read, nor behind a writer whose turn has not come yet. Queued
behind those, one read waiting made every later one wait too, and under a steady load of
chatbox loads that queue never emptied (docs/performance.md, "renewal4")."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from causerie.domain.models import Website
from causerie.store.database import SqliteStore, open_store
from causerie.store.migrate import upgrade

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _website(name: str) -> Website:
    return Website(name, name, ("https://shop.example",), {}, T0)


def _run(tmp_path: Path, scenario: Callable[[SqliteStore], Awaitable[None]]) -> None:
    async def main() -> None:
        url = f"sqlite:///{tmp_path / 'turns.db'}"
        await upgrade(url)
        store = open_store(url)
        assert isinstance(store, SqliteStore)
        try:
            await asyncio.wait_for(scenario(store), 10)
            assert not store._lock.locked() and store._reads == 0
        finally:
            await store.close()

    asyncio.run(main())


def test_a_read_never_sees_a_transaction_under_way_and_reads_it_once_committed(
    tmp_path: Path,
) -> None:
    async def scenario(store: SqliteStore) -> None:
        inserted, go = asyncio.Event(), asyncio.Event()

        async def writer() -> None:
            async with store.transaction() as tx:
                await tx.websites.insert(_website("w1"))
                inserted.set()
                await go.wait()

        async def reader() -> Website | None:
            async with store.read() as tx:
                return await tx.websites.get("w1")

        writing = asyncio.create_task(writer())
        await inserted.wait()
        reading = asyncio.create_task(reader())
        for _ in range(5):
            await asyncio.sleep(0)
        assert not reading.done()  # the transaction holds the connection: the read waits
        go.set()
        await writing
        assert await reading == _website("w1")

    _run(tmp_path, scenario)


def test_a_transaction_waits_for_the_reads_under_way_and_reads_share_the_connection(
    tmp_path: Path,
) -> None:
    async def scenario(store: SqliteStore) -> None:
        async with store.transaction() as tx:
            await tx.websites.insert(_website("w1"))
        order: list[str] = []
        go = asyncio.Event()

        async def slow_reader() -> None:
            async with store.read() as tx:
                assert await tx.websites.get("w2") is None
                order.append("slow read in")
                await go.wait()
                assert await tx.websites.get("w2") is None  # nothing written meanwhile
                order.append("slow read out")

        async def writer() -> None:
            async with store.transaction() as tx:
                order.append("writer in")
                await tx.websites.insert(_website("w2"))

        async def quick_reader() -> None:
            async with store.read() as tx:
                assert await tx.websites.get("w1") is not None
                order.append("quick read")

        slow = asyncio.create_task(slow_reader())
        await asyncio.sleep(0)
        quick = asyncio.create_task(quick_reader())
        await asyncio.sleep(0)
        assert order == ["slow read in", "quick read"]  # not behind the slow one
        writing = asyncio.create_task(writer())
        for _ in range(5):
            await asyncio.sleep(0)
        assert order == ["slow read in", "quick read"]  # the writer waits for the slow read
        go.set()
        await asyncio.gather(slow, quick, writing)
        assert order == ["slow read in", "quick read", "slow read out", "writer in"]

    _run(tmp_path, scenario)


def test_a_read_goes_at_once_when_no_writer_holds_the_connection_whoever_waits(
    tmp_path: Path,
) -> None:
    async def scenario(store: SqliteStore) -> None:
        await store._lock.acquire()  # a writer's turn, as a transaction or a commit takes it
        queued = asyncio.create_task(_read_one(store))
        await asyncio.sleep(0)
        assert not queued.done()  # it waits for the writer
        store._lock.release()  # its turn ends: the queued read is woken, not yet running
        entering = store.read()
        step = entering.__aenter__()
        with pytest.raises(StopIteration):  # entered without waiting for a turn of the loop
            step.send(None)
        await entering.__aexit__(None, None, None)
        await queued

    _run(tmp_path, scenario)


async def _read_one(store: SqliteStore) -> None:
    async with store.read() as tx:
        await tx.websites.get("w1")
