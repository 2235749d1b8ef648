"""Two processes on one SQLite file (a server and a CLI command, or a test's harness and its
server): a transaction that read before another process wrote must still be able to write.

With a deferred BEGIN it could not: its read snapshot was older than the other's commit, and
SQLite refuses such an upgrade at once ("database is locked", no busy wait). Write transactions
begin IMMEDIATE, so the second writer waits its turn under the busy timeout instead.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from causerie.domain.models import Website
from causerie.store.database import open_store
from causerie.store.migrate import upgrade

NOW = datetime(2026, 12, 6, tzinfo=UTC)


def test_a_transaction_that_read_first_still_writes_when_another_store_writes_meanwhile(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'causerie.db'}"
    asyncio.run(upgrade(url))
    site = Website("w1", "Shop", ("https://shop.example",), {}, NOW)

    async def create() -> None:
        store = open_store(url)
        try:
            async with store.transaction() as tx:
                await tx.websites.insert(site)
        finally:
            await store.close()

    asyncio.run(create())
    first_has_read = threading.Event()
    second_committed = threading.Event()
    errors: list[BaseException] = []

    async def first() -> None:  # reads, lets the other write, then writes what it read
        store = open_store(url)
        try:
            async with store.transaction() as tx:
                read = await tx.websites.get(site.id)
                assert read is not None
                first_has_read.set()
                # Under a deferred BEGIN the other commits now; under IMMEDIATE it waits for us.
                await asyncio.to_thread(second_committed.wait, 1.0)
                await tx.websites.update(replace(read, name="Renamed by the first"))
        finally:
            await store.close()

    async def second() -> None:
        store = open_store(url)
        try:
            async with store.transaction() as tx:
                await tx.websites.insert(replace(site, id="w2", name="Other"))
            second_committed.set()
        finally:
            await store.close()

    def run(work: Coroutine[Any, Any, None]) -> None:
        try:
            asyncio.run(work)
        except BaseException as exc:
            errors.append(exc)

    one = threading.Thread(target=run, args=(first(),))
    one.start()
    assert first_has_read.wait(10)
    two = threading.Thread(target=run, args=(second(),))
    two.start()
    one.join(20)
    two.join(20)
    assert errors == []

    async def names() -> list[str]:
        store = open_store(url)
        try:
            async with store.read() as tx:
                return sorted(w.name for w in await tx.websites.list_all())
        finally:
            await store.close()

    assert asyncio.run(names()) == ["Other", "Renamed by the first"]
