"""Early commits (`Tx.commit_early`, store/wal_flush.py): on PostgreSQL a transaction asked to
commit early returns once committed, its writes visible and its locks released, and is told
(its `on_commit` callbacks) only once a flush has put it on disk, in the order transactions
committed; a flush that fails tells it `lost` instead. SQLite's store does not commit early: the
transaction ends durable, as any other. Reads of positions in the event log return only once
what they saw is on disk.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError

from causerie.store.database import open_store
from causerie.store.failures import is_storage_failure
from causerie.store.postgres import PostgresStore
from causerie.store.wal_flush import WalFlusher
from tests import relay_support
from tests.conftest import Harness, Site
from tests.relay_support import Relay, through

_RENAME = text("UPDATE websites SET name = :name WHERE id = :id")

relay = relay_support.relay  # the fixture


def _postgres_only(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite's store does not commit early (test_every_store_says_whether...)")


def _raw_url(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


async def _rename_elsewhere(database_url: str, site: Site, name: str) -> None:
    raw = await asyncpg.connect(_raw_url(database_url))
    try:
        await raw.execute("SET lock_timeout = '5s'")
        await raw.execute("UPDATE websites SET name = $1 WHERE id = $2", name, site.website_id)
    finally:
        await raw.close()


def _flusher(harness: Harness) -> WalFlusher:
    store = harness.rt.store
    assert isinstance(store, PostgresStore)
    return store.flusher


def test_every_store_says_whether_it_commits_early_and_tells_a_transaction_once_durable(
    harness: Harness, site: Site, database_url: str
) -> None:
    told: list[str] = []

    async def scenario() -> tuple[bool, list[str]]:
        if not database_url.startswith("sqlite"):
            await _flusher(harness).probe()  # what the first durable transaction starts
        async with harness.rt.store.transaction() as tx:
            await tx.db.execute(_RENAME, {"name": "early", "id": site.website_id})  # type: ignore[attr-defined]
            tx.on_commit(lambda: told.append("told"))
            early = tx.commit_early(lambda error: told.append(f"lost {error}"))
        at_exit = list(told)
        if early:
            await _flusher(harness).idle()
        return early, at_exit

    early, at_exit = harness.run(scenario())
    assert early == (not database_url.startswith("sqlite"))
    # Early: not told when the `async with` returned, only once flushed; else at once.
    assert at_exit == ([] if early else ["told"])
    assert told == ["told"]
    assert harness.scalar("SELECT name FROM websites WHERE id = :id", id=site.website_id) == "early"


def test_an_early_commit_releases_its_locks_before_it_is_on_disk(
    harness: Harness, site: Site, database_url: str
) -> None:
    """The website's row written early is written again by another connection before the
    first transaction is told anything: its lock went with its commit, not with its flush."""
    _postgres_only(database_url)
    told: list[str] = []

    async def scenario() -> tuple[list[str], list[str]]:
        flusher = _flusher(harness)
        await flusher.probe()
        async with harness.rt.store.transaction() as tx:
            await tx.db.execute(_RENAME, {"name": "early", "id": site.website_id})  # type: ignore[attr-defined]
            tx.on_commit(lambda: told.append("first"))
            assert tx.commit_early(lambda error: told.append("lost"))
        # From another thread, while this loop is held (so the flush cannot run): the row is
        # free, and the first transaction still not told.
        with ThreadPoolExecutor(1) as other:
            other.submit(asyncio.run, _rename_elsewhere(database_url, site, "second")).result()
        before_flush = list(told)
        await flusher.idle()
        return before_flush, told

    before_flush, after = harness.run(scenario())
    assert before_flush == []
    assert after == ["first"]
    name = harness.scalar("SELECT name FROM websites WHERE id = :id", id=site.website_id)
    assert name == "second"


def test_transactions_are_told_in_the_order_they_committed(
    harness: Harness, site: Site, database_url: str
) -> None:
    _postgres_only(database_url)
    told: list[str] = []

    async def scenario() -> None:
        flusher = _flusher(harness)
        await flusher.probe()
        store = harness.rt.store
        for name, early in (("one", True), ("two", False), ("three", True), ("four", False)):
            async with store.transaction() as tx:
                await tx.db.execute(_RENAME, {"name": name, "id": site.website_id})  # type: ignore[attr-defined]
                tx.on_commit(lambda name=name: told.append(name))  # type: ignore[misc]
                if early:
                    assert tx.commit_early(lambda error: told.append(f"lost {error}"))
        await flusher.idle()

    harness.run(scenario())
    assert told == ["one", "two", "three", "four"]


def test_an_early_commit_whose_flush_fails_is_told_it_may_be_lost(
    relay: Relay, database_url: str, site: Site
) -> None:
    _postgres_only(database_url)

    async def run() -> tuple[list[str], list[Exception]]:
        store = open_store(through(database_url, relay))
        assert isinstance(store, PostgresStore)
        told: list[str] = []
        lost: list[Exception] = []
        try:
            await store.flusher.probe()
            async with store.transaction() as tx:
                await tx.websites.get(site.website_id)
                tx.on_commit(lambda: told.append("told"))
                assert tx.commit_early(lost.append)
            # Committed; before the flush is sent, every connection is lost without a word.
            assert relay.lose_all() >= 1
            await store.flusher.idle()
            return told, lost
        finally:
            await store.close()

    told, lost = asyncio.run(run())
    assert told == []
    (error,) = lost
    assert isinstance(error, DBAPIError) and is_storage_failure(error)


def test_a_refusal_of_the_flush_is_known_as_one(harness: Harness, database_url: str) -> None:
    """PostgreSQL's answer when it will not run the flush's function: the store then commits
    as before (`WalFlusher.refused`); any other error is not one."""
    _postgres_only(database_url)

    async def errors() -> list[Exception]:
        raw = await asyncpg.connect(_raw_url(database_url))
        found: list[Exception] = []
        try:
            for sql in ("SELECT causerie_no_such_function()", "SELECT 1 / 0"):
                try:
                    await raw.execute(sql)
                except asyncpg.PostgresError as exc:
                    found.append(exc)
        finally:
            await raw.close()
        return found

    missing, division = harness.run(errors())
    flusher = WalFlusher(lambda: None)  # type: ignore[arg-type,return-value]
    assert not flusher.refused(division) and flusher.usable is None
    assert flusher.refused(missing) and flusher.usable is False


def test_a_position_read_returns_once_what_it_saw_is_on_disk(
    harness: Harness, site: Site, database_url: str
) -> None:
    """Another node's early commit is visible before it is on disk: a follower told a position
    past it could, after a crash of PostgreSQL, skip the other event that takes that seq."""
    _postgres_only(database_url)

    async def scenario() -> bool:
        raw = await asyncpg.connect(_raw_url(database_url))
        try:
            await raw.execute(
                "BEGIN; SET LOCAL synchronous_commit = off;"
                f" UPDATE websites SET name = 'elsewhere' WHERE id = '{site.website_id}'; COMMIT"
            )
            committed = await raw.fetchval("SELECT pg_current_wal_insert_lsn()::text")
            async with harness.rt.store.read() as tx:
                await tx.events.last_seq(f"website:{site.website_id}")
            return bool(
                await raw.fetchval(
                    "SELECT pg_current_wal_flush_lsn() >= $1::text::pg_lsn", committed
                )
            )
        finally:
            await raw.close()

    assert harness.run(scenario())
