"""Background threads (SQLite's long reads, its WAL checkpoints) run at a lower priority than the
event loop's thread, read back from the kernel (/proc/self/task/TID/stat); elsewhere than Linux
nothing changes."""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from causerie import thread_priority
from causerie.store import database
from causerie.store.database import open_store
from causerie.store.migrate import upgrade
from causerie.thread_priority import BACKGROUND_NICE, MAX_NICE, lower_this_thread

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's"
)


def nice_of(tid: int) -> int:
    """The thread's nice value as the kernel has it (field 19 of its stat line)."""
    stat = Path(f"/proc/self/task/{tid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[16])


def threads_named(prefix: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


def in_new_thread(work: object) -> None:
    thread = threading.Thread(target=work)  # type: ignore[arg-type]
    thread.start()
    thread.join()


@linux_only
def test_a_lowered_thread_runs_nicer_and_the_others_do_not_change() -> None:
    seen: dict[str, int] = {}
    before = nice_of(threading.get_native_id())

    def lowered() -> None:
        lower_this_thread()
        seen["lowered"] = nice_of(threading.get_native_id())

    in_new_thread(lowered)
    assert seen["lowered"] == min(MAX_NICE, before + BACKGROUND_NICE)
    assert nice_of(threading.get_native_id()) == before  # per thread: the caller's is untouched


@linux_only
def test_lowering_stops_at_the_lowest_priority() -> None:
    seen: list[int] = []

    def twice() -> None:
        lower_this_thread(15)
        lower_this_thread(15)
        seen.append(nice_of(threading.get_native_id()))

    in_new_thread(twice)
    assert seen == [MAX_NICE]


def test_where_threads_cannot_be_reniced_alone_nothing_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Off Linux, setpriority with a thread's id would renice the process (the loop included)."""
    monkeypatch.setattr(thread_priority, "SUPPORTED", False)
    calls: list[object] = []
    monkeypatch.setattr(thread_priority.os, "setpriority", lambda *a: calls.append(a))
    in_new_thread(lower_this_thread)
    assert calls == []


@linux_only
def test_sqlite_read_threads_run_below_the_event_loops_priority(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nice.db'}"

    async def run() -> tuple[int, list[int]]:
        await upgrade(url)
        others = set(threads_named("causerie-sqlite-read"))  # another test's, closing
        store = open_store(url)
        assert isinstance(store, database.SqliteStore)
        try:
            # Two reads at once, each held open until both have read: two reader threads.
            both = asyncio.Barrier(2)

            async def one() -> None:
                async with store.long_read() as tx:
                    await tx.websites.list_all()
                    await both.wait()

            await asyncio.gather(one(), one())
            readers = set(threads_named("causerie-sqlite-read")) - others
            assert len(readers) >= 2
            return nice_of(threading.get_native_id()), [
                nice_of(t.native_id) for t in readers if t.native_id is not None
            ]
        finally:
            await store.close()

    loop_nice, reader_nices = asyncio.run(run())
    assert len(reader_nices) >= 2
    assert reader_nices == [min(MAX_NICE, loop_nice + BACKGROUND_NICE)] * len(reader_nices)


@linux_only
def test_the_wal_checkpoint_thread_runs_below_the_event_loops_priority(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nice.db'}"

    async def run() -> tuple[int, list[int], int]:
        await upgrade(url)
        others = set(threads_named("causerie-sqlite-checkpoint"))  # another test's, closing
        store = open_store(url)
        assert isinstance(store, database.SqliteStore)
        try:
            blob = "x" * 3900
            while store._checkpoints.runs == 0:
                async with store.transaction() as tx:
                    for _ in range(20):
                        await tx.db.execute(  # type: ignore[attr-defined]
                            text(
                                "INSERT INTO purge_runs (at, dry_run, counts) "
                                "VALUES ('2026-01-01', 0, :counts)"
                            ),
                            {"counts": f'{{"n": "{blob}"}}'},
                        )
            await store._checkpoints.idle()
            checkpointers = set(threads_named("causerie-sqlite-checkpoint")) - others
            return (
                nice_of(threading.get_native_id()),
                [nice_of(t.native_id) for t in checkpointers if t.native_id is not None],
                store._checkpoints.runs,
            )
        finally:
            await store.close()

    database.WAL_CHECKPOINT_BYTES, limit = 64 * 1024, database.WAL_CHECKPOINT_BYTES
    try:
        loop_nice, nices, runs = asyncio.run(run())
    finally:
        database.WAL_CHECKPOINT_BYTES = limit
    assert runs >= 1
    assert nices == [min(MAX_NICE, loop_nice + BACKGROUND_NICE)]
    assert not threads_named("causerie-sqlite-checkpoint")  # closed with the store
