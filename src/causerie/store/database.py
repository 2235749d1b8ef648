"""Opening the database: the SQLite store (embedded default) and the PostgreSQL store.

SQLite runs on the event loop's own thread through one connection: a local query costs tens of
microseconds, less than the hop to a worker thread would, and one connection per process means
transactions of the same process never wait on each other's locks. An asyncio lock keeps one
transaction at a time on that connection. PostgreSQL goes through asyncpg and a pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Executable, Result, create_engine, event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from causerie.store.tx import SqlTx

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # Commits survive a crash of the process; an fsync per commit is left to message writes.
    "PRAGMA synchronous=NORMAL",
    # Deleted rows are overwritten with zeros, so a destroyed session leaves no bytes behind.
    "PRAGMA secure_delete=ON",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


def _sync_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.set(drivername="sqlite+pysqlite"))
    return str(parsed.set(drivername="postgresql+asyncpg"))


def sqlite_engine(url: str) -> Engine:
    """A sync engine with Causerie's pragmas and explicit BEGIN (pysqlite's own is unreliable)."""
    parsed = make_url(_sync_url(url))
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, poolclass=StaticPool, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


def postgres_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(_sync_url(url), pool_size=pool_size, max_overflow=pool_size)


class SqliteStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn = engine.connect()
        self._lock = asyncio.Lock()

    async def _execute(self, stmt: Executable) -> Result[Any]:
        return self._conn.execute(stmt)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlTx]:
        async with self._lock:
            tx = SqlTx(self._execute, "sqlite")
            with self._conn.begin():
                yield tx
        tx.committed()

    async def after_purge(self) -> None:
        async with self._lock:
            # Deleted pages are zeroed in the main file; the WAL still holds their old images
            # until a checkpoint copies them back and truncates it.
            # Outside any transaction: on the raw connection, which runs in autocommit mode.
            raw = self._conn.connection.driver_connection
            assert raw is not None
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").close()

    async def close(self) -> None:
        self._conn.close()
        self.engine.dispose()


class PostgresStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlTx]:
        async with self.engine.begin() as conn:
            tx = SqlTx(conn.execute, "postgresql")
            yield tx
        tx.committed()

    async def after_purge(self) -> None:
        return None

    async def close(self) -> None:
        await self.engine.dispose()


def open_store(url: str) -> SqliteStore | PostgresStore:
    if make_url(url).get_backend_name() == "sqlite":
        return SqliteStore(sqlite_engine(url))
    return PostgresStore(postgres_engine(url))
