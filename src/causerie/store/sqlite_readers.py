"""Long reads on SQLite, off the event loop: `SqliteStore.long_read()` (docs/architecture.md,
"Transactions").

The writer's connection runs on the event loop's thread, which suits statements of microseconds.
A search through a million messages, an export or a report takes tens to hundreds of
milliseconds, during which no socket of the process would be served. SQLite in WAL mode lets
readers run beside the writer, so these run on read-only connections of their own, each in a
thread of its own: the loop goes on meanwhile.

Each reader is one connection and the one thread that uses it. A long read takes a free reader for
its whole `async with` (one snapshot: `BEGIN` at its first statement, `ROLLBACK` at its end), and
runs each statement, rows fetched included, in that reader's thread. The statements are the
store's own (`SqlTx` without the driver's connection: SQLAlchemy throughout), so a search answers
the same through either path; only where they run changes. A read sees what was committed when
its first statement ran, never an open transaction's writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Executable, Result

from causerie.store.db import Db, Params
from causerie.store.tx import Repositories, SqlTx
from causerie.thread_priority import lower_this_thread

T = TypeVar("T")

# Read connections per process. Long reads beyond this wait for one to be free; the machine's
# cores, not more connections, bound how many can make progress at once.
SQLITE_READERS = 4


class _Reader:
    """One read connection, opened and used only in its own thread."""

    def __init__(self, engine: Engine, number: int) -> None:
        self._engine = engine
        # A lower priority than the loop's (thread_priority): a long read takes the core only
        # when the loop does not need it.
        self._thread = ThreadPoolExecutor(
            1, thread_name_prefix=f"causerie-sqlite-read-{number}", initializer=lower_this_thread
        )
        self._conn: Connection | None = None

    def run(self, function: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """`function` queued in this reader's thread, after what is queued there already."""
        return asyncio.get_running_loop().run_in_executor(self._thread, function, *args)

    def statement(self, stmt: Executable, params: Params) -> asyncio.Future[Result[Any]]:
        return self.run(self._execute, stmt, params)

    def _execute(self, stmt: Executable, params: Params) -> Result[Any]:
        if self._conn is None:
            self._conn = self._engine.connect()
        result = self._conn.execute(stmt, params)
        # Every row is read here, in this thread: fetching is stepping the statement.
        return result.freeze()() if result.returns_rows else result

    def end(self) -> None:
        if self._conn is not None:
            self._conn.rollback()  # ends the read's snapshot

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def shutdown(self) -> None:
        await self.run(self.close)
        self._thread.shutdown()


class SqliteReaders:
    """A few read-only connections to the store's file, each with its thread (see the module)."""

    def __init__(self, engine: Engine, size: int = SQLITE_READERS) -> None:
        self.engine = engine
        self._readers = [_Reader(engine, n) for n in range(size)]
        self._free: asyncio.LifoQueue[_Reader] = asyncio.LifoQueue()
        for reader in reversed(self._readers):
            self._free.put_nowait(reader)
        self._closed = False

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqlTx]:
        if self._closed:
            raise RuntimeError("the store is closed")
        reader = await self._free.get()
        try:
            yield SqlTx(Repositories(Db(reader.statement, "sqlite")))
        finally:
            # Queued in the reader's own thread, after any statement still running there (a
            # cancelled read's): the next read on this connection starts a snapshot of its own.
            ending = reader.run(reader.end)
            self._free.put_nowait(reader)
            await ending

    async def close(self) -> None:
        """Wait for the reads in progress, then close every connection."""
        self._closed = True
        for _ in self._readers:
            await self._free.get()
        for reader in self._readers:
            await reader.shutdown()
        self.engine.dispose()
