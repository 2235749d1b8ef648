"""The SQLite store keeps its WAL short from a second connection, off the event loop."""

from __future__ import annotations

import asyncio
import os
import warnings
from pathlib import Path

from sqlalchemy import text

from causerie.store import database
from causerie.store.database import open_store
from causerie.store.migrate import upgrade

LIMIT = 256 * 1024


COMMITS = 200


def _wal_size_after_writes(
    tmp_path: Path, checkpoints: bool, wait: bool = True
) -> tuple[int, int, int, int]:
    """`wait`: each commit waits for the checkpoint it started (else the next commit begins
    while it runs, as on a busy server)."""
    tmp_path.mkdir()
    url = f"sqlite:///{tmp_path / 'c.db'}"
    wal = tmp_path / "c.db-wal"
    limit = LIMIT

    async def scenario(enabled: bool) -> tuple[int, int, int, int]:
        await upgrade(url)
        store = open_store(url)
        assert isinstance(store, database.SqliteStore)
        store._checkpoints.enabled = enabled
        automatic = store._raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        blob = "x" * 4000
        for batch in range(COMMITS):
            async with store.transaction() as tx:
                for n in range(10):
                    await tx.db.execute(
                        text(
                            "INSERT INTO purge_runs (at, dry_run, counts) "
                            "VALUES ('2026-01-01', 0, :counts)"
                        ),
                        {"counts": f'{{"n": "{batch}-{n}-{blob}"}}'[:4000]},
                    )
            if wait:
                await store._checkpoints.idle()
        await store._checkpoints.idle()
        size = os.stat(wal).st_size
        await store.close()
        return automatic, size, store._checkpoints.runs, store._checkpoints.restarts

    database.WAL_CHECKPOINT_BYTES = limit
    try:
        return asyncio.run(scenario(checkpoints))
    finally:
        database.WAL_CHECKPOINT_BYTES = 4 * 1024 * 1024


def test_checkpoints_run_outside_commits_and_keep_the_wal_from_growing(tmp_path: Path) -> None:
    automatic, with_checkpoints, runs, _ = _wal_size_after_writes(tmp_path / "a", checkpoints=True)
    _, without, _, _ = _wal_size_after_writes(tmp_path / "b", checkpoints=False)
    assert automatic == 0  # SQLite's own checkpoint, inside a commit on the loop, is off
    assert with_checkpoints <= 2 * LIMIT < without
    # One checkpoint per LIMIT bytes written, not one after every commit once the file has
    # reached LIMIT (SQLite reuses the file without shrinking it unless told to).
    assert 2 <= runs <= without // LIMIT + 2 < COMMITS // 4


def test_a_wal_written_while_checkpoints_run_is_checkpointed_once_per_limit_and_restarted(
    tmp_path: Path,
) -> None:
    """Each commit begins while the last one's checkpoint may still run, as on a busy server:
    SQLite would never restart the WAL, whose file grew on, and a checkpoint followed nearly
    every commit once the file was past LIMIT. Now a checkpoint starts once per LIMIT written
    since the last one, and past `WAL_RESTART_FACTOR` times LIMIT a commit copies back what is
    left before the next transaction begins: SQLite restarts the WAL, cut back to half LIMIT."""
    _, size, runs, _ = _wal_size_after_writes(tmp_path / "a", checkpoints=True, wait=False)
    _, without, _, _ = _wal_size_after_writes(tmp_path / "b", checkpoints=False)
    # (A checkpoint that happens to end before the next transaction begins restarts it too.)
    assert size <= (database.WAL_RESTART_FACTOR + 2) * LIMIT < without
    assert 2 <= runs <= without // LIMIT + 2 < COMMITS // 4


def test_closing_waits_for_a_group_already_committing(tmp_path: Path) -> None:
    """A command that fails (its transaction rolled back) closes the store at once: the group's
    commit, already running in its thread, finishes before the connection closes."""
    url = f"sqlite:///{tmp_path / 'c.db'}"

    async def scenario() -> None:
        await upgrade(url)
        store = open_store(url)
        assert isinstance(store, database.SqliteStore)
        try:
            async with store.transaction():
                raise LookupError("refused")
        except LookupError:
            pass
        while store._group is not None:  # noqa: ASYNC110 (the commit leaves for its thread)
            await asyncio.sleep(0)
        await store.close()

    # The commit runs in a thread: its warnings are recorded here, not raised in the test.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(20):
            asyncio.run(scenario())
    assert [str(w.message) for w in caught] == []
