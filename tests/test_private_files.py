"""The data folder and everything in it are the owner's only (security review, issue 12): a
fresh install, and one an older version left world-readable (0644 files in a 0755 folder)."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from causerie.actions.websites import do_create_website
from causerie.clock import SystemClock
from causerie.domain.models import Actor
from causerie.runtime import Runtime
from causerie.settings import load_settings
from causerie.wiring import build_runtime, close_runtime, running
from tests.support import sqlite_files


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, whatever the test runner's: files would be created 0644 by default."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def _start_and_write(data_dir: Path) -> None:
    """What `causerie serve` does at start, then a write, so SQLite makes its WAL and SHM."""
    settings = load_settings(environ={}, data_dir=str(data_dir))

    async def run() -> None:
        async with running(settings, SystemClock()) as rt:
            await do_create_website(rt, Actor.cli(), "Shop", ["https://shop.example"])
            # While the store is open, its WAL and shared-memory files exist.
            names, modes = await asyncio.to_thread(lambda: (_names(data_dir), _modes(data_dir)))
            assert names >= {"causerie.db-wal", "causerie.db-shm", "secret_key"}
            assert _owner_only(modes), modes

    asyncio.run(run())


def _names(root: Path) -> set[str]:
    return {path.name for path in root.iterdir()}


def _owner_only(modes: dict[str, int]) -> bool:
    return all(mode & 0o077 == 0 for mode in modes.values())


def test_a_fresh_data_folder_is_the_owners_only(tmp_path: Path, umask_022: None) -> None:
    data_dir = tmp_path / "data"
    _start_and_write(data_dir)
    modes = _modes(data_dir)
    assert modes["."] == 0o700
    assert modes["causerie.db"] == modes["secret_key"] == 0o600
    assert _owner_only(modes), modes


def test_an_older_world_readable_data_folder_is_tightened_on_start(
    tmp_path: Path, umask_022: None
) -> None:
    data_dir = tmp_path / "data"
    _start_and_write(data_dir)
    (data_dir / "files" / "ab").mkdir(parents=True)
    (data_dir / "files" / "ab" / "upload.png").write_bytes(b"\x89PNG")
    (data_dir / "causerie.toml").write_text("")
    for path in (data_dir, *data_dir.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    assert not _owner_only(_modes(data_dir))

    _start_and_write(data_dir)
    modes = _modes(data_dir)
    assert _owner_only(modes), modes
    assert modes["files/ab"] == 0o700 and modes["files/ab/upload.png"] == 0o600


_ANOTHER_PROCESS = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
with conn:
    conn.execute("UPDATE websites SET name = 'Renamed'")
conn.close()  # its last connection: SQLite deletes the WAL if no other process holds a lock
"""


async def _another_process_writes_and_closes(rt: Runtime, database: Path) -> None:
    """A process of its own writes and closes its last connection: the database's `-wal` and
    `-shm` files stay, and `rt` reads what it wrote."""
    done = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _ANOTHER_PROCESS, str(database)
    )
    assert await done.wait() == 0
    assert _names(database.parent) >= {"causerie.db-wal", "causerie.db-shm"}
    async with rt.store.read() as tx:
        result = await tx.db.execute(text("SELECT name FROM websites"))  # type: ignore[attr-defined]
        assert [row[0] for row in result] == ["Renamed"]


def test_opening_the_database_again_keeps_this_processs_locks_on_it(tmp_path: Path) -> None:
    """Making the database file private opened and closed it with `os.open`: POSIX locks are
    the process's, and closing any descriptor of a file drops them all, those of the store
    already open in the same process included (a second store, as the tests' harness beside a
    server thread). Another process (a `causerie` command) then closing its last connection
    could lock the database alone, and deleted the `-wal` and `-shm` files the first store still
    had open: that store read a copy of its own from then on."""
    settings = load_settings(environ={}, data_dir=str(tmp_path / "data"))

    async def run() -> None:
        async with running(settings, SystemClock()) as rt:
            await do_create_website(rt, Actor.cli(), "Shop", ["https://shop.example"])
            second = build_runtime(settings, SystemClock())  # opens the database file again
            try:
                await _another_process_writes_and_closes(rt, tmp_path / "data" / "causerie.db")
            finally:
                await close_runtime(second)

    asyncio.run(run())


def test_the_tests_reading_of_the_database_files_keeps_this_processs_locks(
    tmp_path: Path,
) -> None:
    """The same for the tests' own look at the SQLite files' bytes (`sqlite_files`, privacy
    tests' "nowhere"): read in this process, each file's closing dropped the locks of the
    stores open here."""
    settings = load_settings(environ={}, data_dir=str(tmp_path / "data"))

    async def run() -> None:
        async with running(settings, SystemClock()) as rt:
            await do_create_website(rt, Actor.cli(), "Shop", ["https://shop.example"])
            files = await asyncio.to_thread(sqlite_files, settings.database_url)
            assert b"Shop" in b"".join(files.values())
            await _another_process_writes_and_closes(rt, tmp_path / "data" / "causerie.db")

    asyncio.run(run())
