"""One file store contract, run against every backend (STYLE.md, practice 6): the data folder and
S3 (moto's server on 127.0.0.1); then what only one of them can do wrong."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import stat
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from causerie.domain.files import (
    CHUNK_SIZE,
    FileMissing,
    FilesUnavailable,
    InvalidFileId,
    StoredFile,
    is_file_id,
    new_file_id,
)
from causerie.domain.ports import FileStore
from causerie.files import open_file_store
from causerie.files.folder import PARTIAL, STALE_PARTIAL_SECONDS, FolderFileStore
from causerie.files.s3 import PART_SIZE, S3FileStore
from causerie.settings import Settings, load_settings
from tests.conftest import ServerThread
from tests.s3_support import AWS_ENV, MotoServer, moto_server

MiB = 1024 * 1024
SEND = 64 * 1024  # the size of the chunks the tests send, as a multipart parser would


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with moto_server() as server:
        yield server


def _settings(tmp_path: Path, **values: str) -> Settings:
    return load_settings(environ={}, data_dir=str(tmp_path / "data"), **values)


@pytest.fixture
def s3_settings(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """Settings for a bucket of this test's own, credentials in the usual AWS variables."""
    server: MotoServer = request.getfixturevalue("moto")
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    return _settings(
        tmp_path,
        file_store=f"s3://{server.new_bucket()}/causerie/files",
        s3_endpoint=server.endpoint,
    )


@pytest.fixture(params=["folder", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FileStore]:
    if request.param == "folder":
        settings = _settings(tmp_path)
    else:
        settings = request.getfixturevalue("s3_settings")
    files = open_file_store(settings)
    yield files
    asyncio.run(files.close())


def content(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


async def chunks_of(data: bytes, size: int = SEND) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def read_all(files: FileStore, file_id: str) -> tuple[int, list[bytes]]:
    reader = await files.open(file_id)
    return reader.size, [chunk async for chunk in reader]


async def all_ids(files: FileStore) -> set[str]:
    return {file_id async for file_id in files.list_ids()}


class Failed(Exception):
    pass


async def failing_after(size: int) -> AsyncIterator[bytes]:
    """`size` bytes, then the upload breaks (a client that went away)."""
    async for chunk in chunks_of(content(size)):
        yield chunk
    raise Failed


# -- the contract ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 10, 12 * MiB + 7], ids=["empty", "small", "several-MiB"])
def test_a_file_comes_back_as_it_was_stored(store: FileStore, size: int) -> None:
    data = content(size)

    async def scenario() -> None:
        stored = await store.put(chunks_of(data))
        assert stored == StoredFile(stored.id, size, hashlib.sha256(data).hexdigest())
        assert is_file_id(stored.id)
        read_size, chunks = await read_all(store, stored.id)
        assert read_size == size
        assert b"".join(chunks) == data
        assert all(0 < len(chunk) <= CHUNK_SIZE for chunk in chunks)
        assert len(chunks) >= size // CHUNK_SIZE

    asyncio.run(scenario())


def test_ids_are_made_by_the_store_and_never_repeat(store: FileStore) -> None:
    async def scenario() -> list[StoredFile]:
        return [await store.put(chunks_of(b"same bytes")) for _ in range(3)]

    stored = asyncio.run(scenario())
    assert len({file.id for file in stored}) == 3
    assert len({file.sha256 for file in stored}) == 1


def test_files_stream_in_and_out_without_being_held_whole(store: FileStore) -> None:
    """The test process's own allocations, traced: a 40 MiB file never sits whole in memory, on
    the way in nor on the way out (moto keeps its copy in another process). S3 holds the most:
    the parts in flight, 5 MiB each."""
    size = 40 * MiB

    async def produced() -> AsyncIterator[bytes]:
        piece = content(SEND)
        for n in range(size // SEND):
            yield n.to_bytes(8) + piece[8:]  # a new object each time, as a parser would give

    async def scenario() -> tuple[int, int]:
        tracemalloc.start()
        try:
            stored = await store.put(produced())
            _, peak_in = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            reader = await store.open(stored.id)
            received = 0
            async for chunk in reader:
                received += len(chunk)
            _, peak_out = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert received == size
        return peak_in, peak_out

    peak_in, peak_out = asyncio.run(scenario())
    assert peak_in < size // 3, f"{peak_in / MiB:.1f} MiB held while storing"
    assert peak_out < size // 3, f"{peak_out / MiB:.1f} MiB held while reading"


def test_a_deleted_file_is_not_found(store: FileStore) -> None:
    async def scenario() -> None:
        kept = await store.put(chunks_of(b"kept"))
        gone = await store.put(chunks_of(b"gone"))
        await store.delete([gone.id])
        with pytest.raises(FileMissing):
            await store.open(gone.id)
        assert await all_ids(store) == {kept.id}
        assert (await read_all(store, kept.id))[1] == [b"kept"]

    asyncio.run(scenario())


def test_deleting_what_is_not_there_is_harmless(store: FileStore) -> None:
    async def scenario() -> None:
        stored = await store.put(chunks_of(b"x"))
        await store.delete([])
        await store.delete([new_file_id()])
        await store.delete([stored.id, new_file_id()])
        await store.delete([stored.id])
        assert await all_ids(store) == set()

    asyncio.run(scenario())


def test_opening_an_unknown_id_is_not_found(store: FileStore) -> None:
    with pytest.raises(FileMissing):
        asyncio.run(store.open(new_file_id()))


NOT_IDS = [
    "../x",
    "a/b",
    "",
    "/etc/passwd",
    "..",
    PARTIAL,
    "abcdefghijklmnopqrstuvw1",  # 1 is not in the alphabet
    "ABCDEFGHIJKLMNOPQRSTUVWX",
    "abcdefghijklmnopqrstuvwx/",
    "abcdefghijklmnopqrstuvwx\n",
    "%2e%2e%2fabcdefghijklmnopq",
]


@pytest.mark.parametrize("bad", NOT_IDS)
def test_ids_causerie_did_not_make_are_refused(store: FileStore, bad: str) -> None:
    async def scenario() -> None:
        stored = await store.put(chunks_of(b"still here"))
        with pytest.raises(InvalidFileId):
            await store.open(bad)
        with pytest.raises(InvalidFileId):
            await store.delete([stored.id, bad])
        assert (await read_all(store, stored.id))[1] == [b"still here"]

    asyncio.run(scenario())


@pytest.mark.parametrize("size", [3 * MiB, 12 * MiB], ids=["within-a-part", "after-parts"])
def test_a_put_that_fails_midway_leaves_nothing_readable(store: FileStore, size: int) -> None:
    async def scenario() -> None:
        with pytest.raises(Failed):
            await store.put(failing_after(size))
        assert await all_ids(store) == set()

    asyncio.run(scenario())


def test_a_cancelled_put_leaves_nothing_readable(store: FileStore) -> None:
    async def scenario() -> None:
        sent_enough = asyncio.Event()

        async def stalled() -> AsyncIterator[bytes]:
            async for chunk in chunks_of(content(7 * MiB)):
                yield chunk
            sent_enough.set()
            await asyncio.Event().wait()  # the client stops sending; the server gives up on it
            yield b"never"

        upload = asyncio.create_task(store.put(stalled()))
        await sent_enough.wait()
        upload.cancel()
        with pytest.raises(asyncio.CancelledError):
            await upload
        assert await all_ids(store) == set()

    asyncio.run(scenario())


def test_concurrent_puts_each_keep_their_own_bytes(store: FileStore) -> None:
    sizes = [0, 1, SEND + 1, CHUNK_SIZE * 3, PART_SIZE + 5, 2 * MiB, 7, 6 * MiB]
    data = [content(size, seed) for seed, size in enumerate(sizes)]

    async def scenario() -> None:
        stored = await asyncio.gather(*(store.put(chunks_of(d, 8192)) for d in data))
        assert await all_ids(store) == {file.id for file in stored}
        read = await asyncio.gather(*(read_all(store, file.id) for file in stored))
        for expected, file, (size, chunks) in zip(data, stored, read, strict=True):
            assert (file.size, size) == (len(expected), len(expected))
            assert b"".join(chunks) == expected

    asyncio.run(scenario())


def test_a_reader_closed_early_lets_go_of_the_file(store: FileStore) -> None:
    async def scenario() -> None:
        stored = await store.put(chunks_of(content(2 * MiB)))
        reader = await store.open(stored.id)
        async for _ in reader:
            break
        await reader.aclose()
        await store.delete([stored.id])
        assert await all_ids(store) == set()
        unread = await store.open((await store.put(chunks_of(b"unread"))).id)
        await unread.aclose()

    asyncio.run(scenario())


# -- the data folder ---------------------------------------------------------------------------


def test_folder_store_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    root = tmp_path / "files"
    root.mkdir(mode=0o755)
    files = FolderFileStore(root)
    stored = asyncio.run(files.put(chunks_of(b"private")))
    asyncio.run(files.close())
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE((root / PARTIAL).stat().st_mode) == 0o700
    assert stat.S_IMODE((root / stored.id).stat().st_mode) == 0o600
    assert sorted(os.listdir(root)) == sorted([PARTIAL, stored.id])


def test_folder_store_syncs_the_file_then_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Power-cut safety is the order of the calls: the file's bytes reach the disk before its
    name does (fsync, rename), and the name before the put returns (fsync of the folder)."""
    files = FolderFileStore(tmp_path / "files")
    calls: list[str] = []
    threads: set[str] = set()
    real_fsync, real_rename = os.fsync, os.rename

    def fsync(fd: int) -> None:
        calls.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        threads.add(threading.current_thread().name)
        real_fsync(fd)

    def rename(source: str, target: str) -> None:
        calls.append("rename")
        threads.add(threading.current_thread().name)
        real_rename(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)
    asyncio.run(files.put(chunks_of(b"durable")))
    assert calls == ["fsync file", "rename", "fsync folder"]
    # Off the event loop, in the store's own threads (not the pool the database commits in).
    assert threads and all(name.startswith("causerie-files") for name in threads)


def test_folder_store_leaves_no_partial_file_when_a_put_fails(tmp_path: Path) -> None:
    files = FolderFileStore(tmp_path / "files")
    with pytest.raises(Failed):
        asyncio.run(files.put(failing_after(CHUNK_SIZE * 2)))
    assert os.listdir(tmp_path / "files" / PARTIAL) == []


def test_folder_store_removes_partials_a_crash_left_at_start(tmp_path: Path) -> None:
    partial = tmp_path / "files" / PARTIAL
    partial.mkdir(parents=True)
    (partial / "old").write_bytes(b"half")
    (partial / "fresh").write_bytes(b"being written by another process")
    an_hour_ago = time.time() - STALE_PARTIAL_SECONDS - 60
    os.utime(partial / "old", (an_hour_ago, an_hour_ago))
    FolderFileStore(tmp_path / "files")
    assert os.listdir(partial) == ["fresh"]


def test_folder_store_lists_only_its_files(tmp_path: Path) -> None:
    files = FolderFileStore(tmp_path / "files")
    (tmp_path / "files" / "notes.txt").write_text("someone's note")
    stored = asyncio.run(files.put(chunks_of(b"x")))
    assert asyncio.run(all_ids(files)) == {stored.id}


def test_default_store_is_the_data_folder(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    files = open_file_store(settings)
    assert isinstance(files, FolderFileStore)
    assert files.root == settings.data_dir / "files"


# -- S3 ----------------------------------------------------------------------------------------


@pytest.fixture
def s3(s3_settings: Settings) -> FileStore:
    return open_file_store(s3_settings)


def _bucket(settings: Settings) -> str:
    assert settings.file_store is not None
    return settings.file_store.bucket


def test_s3_store_keeps_files_under_the_prefix(
    s3: FileStore, s3_settings: Settings, moto: MotoServer
) -> None:
    small = asyncio.run(s3.put(chunks_of(b"small")))
    large = asyncio.run(s3.put(chunks_of(content(PART_SIZE + 1))))
    assert sorted(moto.keys(_bucket(s3_settings))) == sorted(
        [f"causerie/files/{small.id}", f"causerie/files/{large.id}"]
    )


def test_s3_store_aborts_the_upload_of_a_failed_put(
    s3: FileStore, s3_settings: Settings, moto: MotoServer
) -> None:
    with pytest.raises(Failed):
        asyncio.run(s3.put(failing_after(3 * PART_SIZE)))
    assert moto.unfinished_uploads(_bucket(s3_settings)) == []
    assert moto.keys(_bucket(s3_settings)) == []


def test_s3_store_ignores_other_keys_under_its_prefix(
    s3: FileStore, s3_settings: Settings, moto: MotoServer
) -> None:
    import httpx

    bucket = _bucket(s3_settings)
    httpx.put(f"{moto.endpoint}/{bucket}/causerie/files/README", content=b"hi").raise_for_status()
    stored = asyncio.run(s3.put(chunks_of(b"x")))
    assert asyncio.run(all_ids(s3)) == {stored.id}


def test_s3_store_with_an_unreachable_endpoint_fails_without_hanging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support import free_port

    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    settings = _settings(
        tmp_path,
        file_store="s3://causerie-nowhere/files",
        s3_endpoint=f"http://127.0.0.1:{free_port()}",
    )
    files = open_file_store(settings)
    started = time.monotonic()
    with pytest.raises(FilesUnavailable):
        asyncio.run(files.put(chunks_of(b"x")))
    with pytest.raises(FilesUnavailable):
        asyncio.run(files.open(new_file_id()))
    assert time.monotonic() - started < 60


# -- wiring ------------------------------------------------------------------------------------


def test_the_server_opens_the_store_its_settings_name(
    start_server: Callable[[Settings], ServerThread], s3_settings: Settings, tmp_path: Path
) -> None:
    folder = start_server(_settings(tmp_path / "one")).rt.files
    assert isinstance(folder, FolderFileStore)
    assert folder.root == tmp_path / "one" / "data" / "files"
    s3 = start_server(s3_settings).rt.files
    assert isinstance(s3, S3FileStore)
    assert asyncio.run(all_ids(s3)) == set()
