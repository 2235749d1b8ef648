"""The data folder's file store, the default: each file is `<data_dir>/files/<id>`
(docs/architecture.md, "Files").

A put writes `files/.partial/<random>` (mode 600), fsyncs it, renames it to its id and fsyncs
the folder: after a crash or a power cut a file is whole under its id or absent. Both folders are
mode 700, so only the account Causerie runs as can read them. Every disk operation runs in a
worker thread, one chunk at a time: the event loop goes on serving sockets, and a transfer holds
one chunk in memory, never the whole file.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import stat
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Collection
from concurrent.futures import Executor, ThreadPoolExecutor
from io import FileIO
from pathlib import Path
from typing import TypeVar

from causerie.domain.files import (
    CHUNK_SIZE,
    FileMissing,
    StoredFile,
    check_file_id,
    is_file_id,
    new_file_id,
)

PARTIAL = ".partial"
# A partial file older than this was left by a crash (no upload takes an hour): removed at start.
STALE_PARTIAL_SECONDS = 3600
_LIST_BATCH = 1000
# The store's own threads: uploads and downloads wait for each other, never for the database's
# commits, which run in the default pool.
THREADS = 4

T = TypeVar("T")


async def _in_thread(
    pool: Executor,
    func: Callable[..., T],
    *args: object,
    abandon: Callable[[T], object] | None = None,
) -> T:
    """`func(*args)` in a thread of `pool`. If the caller is cancelled meanwhile, the cancellation
    waits for the thread to finish (so no file is closed under a thread's feet), then hands what
    the thread made to `abandon` (so nothing it opened is left open)."""
    work = asyncio.get_running_loop().run_in_executor(pool, func, *args)
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        await asyncio.wait([work])
        if abandon is not None and not work.cancelled() and work.exception() is None:
            abandon(work.result())
        raise


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _private_file(path: str, flags: int) -> int:
    return os.open(path, flags, stat.S_IRUSR | stat.S_IWUSR)


def _close(handle: FileIO) -> None:
    handle.close()


def _write(handle: FileIO, digest: hashlib._Hash, data: bytearray) -> None:
    digest.update(data)
    with memoryview(data) as view:
        done = 0
        while done < len(view):
            done += handle.write(view[done:]) or 0


def _open_for_reading(path: Path) -> tuple[FileIO, int]:
    handle = FileIO(path, "r")
    try:
        return handle, os.fstat(handle.fileno()).st_size
    except BaseException:
        handle.close()
        raise


class FolderFileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._partial = root / PARTIAL
        self._pool = ThreadPoolExecutor(THREADS, thread_name_prefix="causerie-files")
        for folder in (root, self._partial):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            folder.chmod(0o700)  # also when it existed with a wider mode
        self._remove_stale_partials()

    def _remove_stale_partials(self) -> None:
        cutoff = time.time() - STALE_PARTIAL_SECONDS
        with os.scandir(self._partial) as entries:
            for entry in entries:
                with contextlib.suppress(FileNotFoundError):
                    if entry.stat().st_mtime < cutoff:
                        os.unlink(entry.path)

    async def put(self, chunks: AsyncIterable[bytes]) -> StoredFile:
        file_id = new_file_id()
        partial = self._partial / new_file_id()
        final = self.root / file_id
        digest = hashlib.sha256()
        size = 0
        handle: FileIO | None = None
        try:
            handle = await _in_thread(
                self._pool, FileIO, partial, "x", True, _private_file, abandon=_close
            )
            buffer = bytearray()
            async for chunk in chunks:
                buffer += chunk
                size += len(chunk)
                if len(buffer) >= CHUNK_SIZE:
                    await _in_thread(self._pool, _write, handle, digest, buffer)
                    buffer.clear()
            await _in_thread(self._pool, _write, handle, digest, buffer)
            await _in_thread(self._pool, self._finish, handle, partial, final)
        except BaseException:
            # Short calls, kept on this thread so that they run even on cancellation.
            if handle is not None:
                handle.close()
            partial.unlink(missing_ok=True)
            final.unlink(missing_ok=True)
            raise
        return StoredFile(id=file_id, size=size, sha256=digest.hexdigest())

    def _finish(self, handle: FileIO, partial: Path, final: Path) -> None:
        os.fsync(handle.fileno())
        handle.close()
        os.rename(partial, final)
        _fsync_folder(self.root)

    async def open(self, file_id: str) -> _FolderReader:
        path = self.root / check_file_id(file_id)
        try:
            handle, size = await _in_thread(
                self._pool, _open_for_reading, path, abandon=lambda opened: _close(opened[0])
            )
        except FileNotFoundError:
            raise FileMissing("no file has this id") from None
        return _FolderReader(self._pool, handle, size)

    async def delete(self, file_ids: Collection[str]) -> None:
        paths = [self.root / check_file_id(file_id) for file_id in file_ids]
        if paths:
            await asyncio.get_running_loop().run_in_executor(self._pool, self._unlink, paths)

    def _unlink(self, paths: list[Path]) -> None:
        for path in paths:
            path.unlink(missing_ok=True)
        _fsync_folder(self.root)

    async def list_ids(self) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        entries = await loop.run_in_executor(self._pool, os.scandir, self.root)
        try:
            while batch := await loop.run_in_executor(self._pool, _next_names, entries):
                for name in batch:
                    if is_file_id(name):
                        yield name
        finally:
            entries.close()

    async def close(self) -> None:
        self._pool.shutdown(wait=False)


def _next_names(entries: os._ScandirIterator[str]) -> list[str]:
    names = []
    for entry in entries:
        names.append(entry.name)
        if len(names) == _LIST_BATCH:
            break
    return names


class _FolderReader:
    def __init__(self, pool: Executor, handle: FileIO, size: int) -> None:
        self._pool = pool
        self._handle = handle
        self._size = size

    @property
    def size(self) -> int:
        return self._size

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            while chunk := await _in_thread(self._pool, self._handle.read, CHUNK_SIZE):
                yield chunk
        finally:
            self._handle.close()

    async def aclose(self) -> None:
        self._handle.close()
