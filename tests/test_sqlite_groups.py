"""The SQLite store's group commit when a member fails (store/database.py, `SqliteStore`): the
group's first member runs without a savepoint, so its failure rolls the whole transaction back
and the group commits nothing; the transactions that queued meanwhile commit in the next group.
A later member still fails alone, inside its savepoint."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from causerie.domain.errors import Conflict
from causerie.store.database import SqliteStore, open_store


class _Refused(Exception):
    pass


def _rows(store: SqliteStore) -> list[int]:
    return [row[0] for row in store._raw.execute("SELECT x FROM t ORDER BY x").fetchall()]


async def _write(
    store: SqliteStore, x: int, *, fail: bool = False, hold: asyncio.Event | None = None
) -> None:
    async with store.transaction():
        store._raw.execute("INSERT INTO t (x) VALUES (?)", (x,))
        if hold is not None:
            await hold.wait()
        if fail:
            raise _Refused(x)


def _scenario(tmp_path: Path, body: object) -> None:
    async def run() -> None:
        store = open_store(f"sqlite:///{tmp_path / 'groups.db'}")
        assert isinstance(store, SqliteStore)
        store._raw.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        try:
            await body(store)  # type: ignore[operator]
            assert not store._lock.locked()
        finally:
            await store.close()

    asyncio.run(run())


@pytest.mark.parametrize("queued", [0, 1, 3])
def test_a_groups_first_member_that_fails_leaves_nothing_and_those_queued_commit_after(
    tmp_path: Path, queued: int
) -> None:
    async def body(store: SqliteStore) -> None:
        traced: list[str] = []
        store._raw.set_trace_callback(traced.append)
        go = asyncio.Event()
        # Created together: the first takes the lock and opens a group; the others queue for
        # the lock before its commit does, as members of it.
        first = asyncio.create_task(_write(store, 1, fail=True, hold=go))
        others = [asyncio.create_task(_write(store, 10 + n)) for n in range(queued)]
        await asyncio.sleep(0)
        go.set()
        results = await asyncio.wait_for(asyncio.gather(first, *others, return_exceptions=True), 5)
        assert isinstance(results[0], _Refused)
        assert results[1:] == [None] * queued
        assert _rows(store) == [10 + n for n in range(queued)]
        await asyncio.wait_for(_write(store, 2), 5)  # and the store goes on
        assert _rows(store) == [2] + [10 + n for n in range(queued)]
        # The void group rolled back and committed nothing; the others formed the next group,
        # each of them but its first in a savepoint.
        assert traced[:3] == ["BEGIN IMMEDIATE", "INSERT INTO t (x) VALUES (1)", "ROLLBACK"]
        assert traced.count("SAVEPOINT causerie_member") == max(0, queued - 1)

    _scenario(tmp_path, body)


def test_a_later_member_that_fails_is_undone_alone_and_the_group_commits_the_others(
    tmp_path: Path,
) -> None:
    async def body(store: SqliteStore) -> None:
        traced: list[str] = []
        store._raw.set_trace_callback(traced.append)
        go = asyncio.Event()
        first = asyncio.create_task(_write(store, 1, hold=go))
        second = asyncio.create_task(_write(store, 2, fail=True))
        third = asyncio.create_task(_write(store, 3))
        await asyncio.sleep(0)
        go.set()
        results = await asyncio.wait_for(
            asyncio.gather(first, second, third, return_exceptions=True), 5
        )
        assert results[0] is None and isinstance(results[1], _Refused) and results[2] is None
        assert _rows(store) == [1, 3]
        # One group, one commit: a savepoint each for the members that joined, none for its
        # first.
        assert traced.count("SAVEPOINT causerie_member") == 2
        assert traced.count("BEGIN IMMEDIATE") == traced.count("COMMIT") == 1

    _scenario(tmp_path, body)


def test_a_first_members_unique_clash_is_a_conflict_and_rolls_back_its_other_writes(
    tmp_path: Path,
) -> None:
    async def body(store: SqliteStore) -> None:
        await _write(store, 1)

        async def clashing() -> None:
            async with store.transaction():
                store._raw.execute("INSERT INTO t (x) VALUES (5)")
                store._raw.execute("INSERT INTO t (x) VALUES (1)")

        with pytest.raises(Conflict):
            await clashing()
        assert _rows(store) == [1]
        await _write(store, 6)
        assert _rows(store) == [1, 6]

    _scenario(tmp_path, body)


@pytest.mark.parametrize("fail", [False, True])
def test_a_statement_through_sqlalchemy_joins_its_group_on_the_driver(
    tmp_path: Path, fail: bool
) -> None:
    """A group begins and commits on the driver (relay3): a statement sent through SQLAlchemy
    inside it (one built per call) runs in the same transaction, commits or rolls back with it,
    and SQLAlchemy holds no transaction of its own once the group has ended."""

    async def body(store: SqliteStore) -> None:
        traced: list[str] = []
        store._raw.set_trace_callback(traced.append)
        with pytest.raises(_Refused) if fail else contextlib.nullcontext():
            async with store.transaction() as tx:
                store._raw.execute("INSERT INTO t (x) VALUES (1)")
                await tx.db.execute(text("INSERT INTO t (x) VALUES (2)"))
                if fail:
                    raise _Refused(2)
        await store._settled()  # a void group ends in its commit's task, after its member
        store._raw.set_trace_callback(None)
        assert _rows(store) == ([] if fail else [1, 2])
        assert [sql for sql in traced if sql.startswith(("BEGIN", "COMMIT", "ROLLBACK"))] == [
            "BEGIN IMMEDIATE",
            "ROLLBACK" if fail else "COMMIT",
        ]
        assert not store._conn.in_transaction() and not store._raw.in_transaction

    _scenario(tmp_path, body)


def test_a_member_cancelled_while_its_group_commits_leaves_the_group_to_commit_it(
    tmp_path: Path,
) -> None:
    """A member's wait for its group's commit is its own (paced3: settled by the commit, no
    longer through `asyncio.shield`): cancelling it cancels neither the commit nor the other
    members' waits, and what it wrote commits with the group (its caller heard of no outcome)."""

    async def body(store: SqliteStore) -> None:
        go = asyncio.Event()
        first = asyncio.create_task(_write(store, 1, hold=go))
        second = asyncio.create_task(_write(store, 2))
        third = asyncio.create_task(_write(store, 3))
        await asyncio.sleep(0)
        go.set()
        # Until the second member has written and waits for the commit: the commit comes
        # after the third (it queued for the lock behind them), so it has not begun. Turn by
        # turn of the loop, not every 10 ms (`until`): the window is a few turns wide.
        async with asyncio.timeout(5):
            while len(store._waiters) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0)
        assert not store._waiters[1].done()
        second.cancel()
        results = await asyncio.wait_for(
            asyncio.gather(first, second, third, return_exceptions=True), 5
        )
        assert results[0] is None and results[2] is None
        assert isinstance(results[1], asyncio.CancelledError)
        assert _rows(store) == [1, 2, 3]

    _scenario(tmp_path, body)


def test_a_commit_that_fails_fails_every_member_of_its_group_and_the_store_goes_on(
    tmp_path: Path,
) -> None:
    """The COMMIT refused (a deferred foreign key left broken by one member): every member of
    the group gets the commit's error from its wait, nothing of the group is kept, and the next
    transaction commits."""

    async def body(store: SqliteStore) -> None:
        store._raw.execute("PRAGMA foreign_keys=ON")
        store._raw.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")
        store._raw.execute(
            "CREATE TABLE c (p INTEGER REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED)"
        )

        async def orphan() -> None:
            async with store.transaction():
                store._raw.execute("INSERT INTO c (p) VALUES (99)")

        go = asyncio.Event()
        first = asyncio.create_task(_write(store, 1, hold=go))
        second = asyncio.create_task(orphan())
        third = asyncio.create_task(_write(store, 3))
        await asyncio.sleep(0)
        go.set()
        results = await asyncio.wait_for(
            asyncio.gather(first, second, third, return_exceptions=True), 5
        )
        assert all(isinstance(r, sqlite3.IntegrityError) for r in results), results
        assert _rows(store) == []
        assert store._raw.execute("SELECT count(*) FROM c").fetchone() == (0,)
        await asyncio.wait_for(_write(store, 4), 5)
        assert _rows(store) == [4]

    _scenario(tmp_path, body)
