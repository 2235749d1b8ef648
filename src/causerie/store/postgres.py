"""The PostgreSQL store: asyncpg through SQLAlchemy's asyncio engine and a pool of connections.

Imported only when `CAUSERIE_DATABASE_URL` names PostgreSQL (store/database.py, `open_store`).
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
import orjson
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from causerie.domain.ports import TransactionLost, TransactionRaced
from causerie.store.database import driver_url
from causerie.store.db import Db, Prepared, Query
from causerie.store.failures import clash, is_lost_race, is_unique_clash, raced
from causerie.store.pending import Pending
from causerie.store.search_indexes import SearchIndexKeeper
from causerie.store.tx import Repositories, SqlTx
from causerie.store.wal_flush import FLUSH, WalFlusher

# Connections kept open per process. None beyond: SQLAlchemy closes an overflow connection as soon
# as it is returned, so under a sustained burst every transaction above the pool's size would
# start a new PostgreSQL backend; with a fixed pool the extra ones wait their turn instead
# (about 10% more relayed messages per second, docs/performance.md). A transaction never holds
# two connections, so waiting cannot deadlock.
POSTGRES_POOL_SIZE = 20
T = TypeVar("T")
# Acknowledged when committed in memory; flushed by the WAL writer shortly after.
_NOT_DURABLE = "SET LOCAL synchronous_commit = off"
_BEGIN_NOT_DURABLE = f"BEGIN; {_NOT_DURABLE}"
# An early commit (`Tx.commit_early`): returns without waiting for the disk; `WalFlusher` then
# makes it durable.
_COMMIT_EARLY = f"{_NOT_DURABLE}; COMMIT"
# TCP keepalives on each connection (seconds; probes): quiet for a minute, the kernel probes it
# every 10 s and gives up after 6 unanswered, so a connection whose server vanished without a
# word (its machine down, the network cut) is known dead in two minutes rather than never (an
# idle one) or after 15 minutes of retransmissions, and a NAT or firewall that forgets quiet
# flows keeps seeing this one.
KEEPALIVE = (60, 10, 6)
# What asyncpg raises for a statement PostgreSQL refused or a connection it lost.
_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError)


# What orjson writes otherwise than `json.dumps` is handed to `json.dumps` instead (`_json_text`).
_AS_JSON_DUMPS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _json_text(value: Any) -> str:
    """A JSONB parameter's text (SQLAlchemy's `json_serializer`): orjson, about a tenth of
    `json.dumps`'s CPU (a message's two event rows carry its data; docs/performance.md,
    `pg3`). PostgreSQL stores JSONB parsed, so the spacing `json.dumps` adds is no part of it.
    What orjson refuses (an integer past 64 bits, a key that is not a string, a datetime, a
    dataclass) goes to `json.dumps`, which writes it, or raises, as before."""
    try:
        return orjson.dumps(value, option=_AS_JSON_DUMPS).decode()
    except TypeError:
        return json.dumps(value)


def _json_value(text: str) -> Any:
    """A JSON or JSONB column's value (SQLAlchemy's `json_deserializer`, run by the driver's
    codec): orjson, about a quarter of `json.loads`'s CPU, as SQLite's reads (store/db.py,
    `_json`): the wire rules keep numbers finite and within ±2**53; past 64 bits an integer
    would come back a float. What orjson refuses is read by `json.loads`."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def postgres_engine(url: str, pool_size: int = POSTGRES_POOL_SIZE) -> AsyncEngine:
    # Last in, first out: a website's batches, one after another, take the connection the last
    # one gave back, whose statements are prepared already (each connection prepares its own, a
    # round trip each); first in, first out went round all 20, preparing every statement 20
    # times over, and sizes of batch statements 20 times each (docs/performance.md, `pgpath`).
    engine = create_async_engine(
        driver_url(url),
        pool_size=pool_size,
        max_overflow=0,
        pool_use_lifo=True,
        json_serializer=_json_text,
        json_deserializer=_json_value,
    )
    event.listen(engine.sync_engine, "connect", keep_alive)
    event.listen(engine.sync_engine, "checkout", dead_on_checkout)
    return engine


def keep_alive(dbapi_connection: Any, _record: Any) -> None:
    """Turn on TCP keepalives (`KEEPALIVE`) for a new connection. asyncpg has no option for
    them (libpq's `keepalives` settings), so they are set on its socket, which its transport
    gives (asyncpg sets `TCP_NODELAY` there the same way); a Unix socket needs none."""
    transport = dbapi_connection.driver_connection._transport
    sock = None if transport is None else transport.get_extra_info("socket")
    if sock is None or sock.family == socket.AF_UNIX:
        return
    idle, interval, count = KEEPALIVE
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    if hasattr(socket, "TCP_KEEPIDLE"):  # Linux; macOS names the first TCP_KEEPALIVE
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
    if hasattr(socket, "TCP_KEEPINTVL"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, interval)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, count)


def dead_on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection whose server went away while it waited (PostgreSQL restarted, its
    backend terminated) is refused at checkout: the pool drops it and hands out a new one
    (SQLAlchemy retries a checkout that raises `DisconnectionError`), so the first request after
    a restart succeeds. asyncpg knows the connection closed once the event loop has read the
    server's goodbye, so this costs an attribute check, where `pool_pre_ping` costs three round
    trips per checkout (docs/performance.md, "upkeep")."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("PostgreSQL closed this pooled connection")


class PostgresDb(Db):
    """`Db` on PostgreSQL, for one transaction that it runs on asyncpg itself: `begin`,
    `commit` and `abandon` send BEGIN, COMMIT and ROLLBACK to the driver, on a connection that
    SQLAlchemy holds in autocommit (so its asyncpg adapter never begins one of its own, and
    what it runs goes into this one). Two kinds of statement go to asyncpg too. Those of
    transaction control, as one simple query: no statement prepared, no result wrapped, several
    in one round trip. And prepared statements (`write`, `write_many`, `fetch_one`,
    `fetch_all`: a message's row, a batch's held-back writes, its reads), compiled once with
    the parameters SQLAlchemy would send and the conversions it would make of a row's values
    (`Prepared.for_asyncpg`): SQLAlchemy's execution context, its adapter's prepared statement
    and its result are skipped, and so is its compilation of a statement it cannot cache (a
    multi-row insert: a batch's streams moved forward) (docs/performance.md, branches
    `msgpath3`, `pgpath` and `pgcpu`). An error there is wrapped as SQLAlchemy's would be
    (`DBAPIError`, the driver's error as `orig`), so that store/failures.py reads it alike.
    Statements built per call still go through SQLAlchemy, on the same connection."""

    __slots__ = ("_conn", "_driver", "_flusher", "durable", "seen_positions")

    def __init__(self, conn: AsyncConnection, flusher: WalFlusher) -> None:
        super().__init__(conn.execute, "postgresql")
        self._conn = conn
        self._flusher = flusher
        self._driver: Any = None
        self.durable = True
        self.seen_positions = False  # read positions in the event log (`made_durable`)

    async def begin(self, durable: bool) -> None:
        """BEGIN on the driver. One that the driver cannot send is sent once more through
        SQLAlchemy (it changes nothing): SQLAlchemy knows a lost connection when it sees one,
        and invalidates it with the pool's connections as old (`Reads`); its error is the one
        raised."""
        self.durable = durable
        self._driver = (await self._conn.get_raw_connection()).driver_connection
        try:
            await self._driver.execute("BEGIN" if durable else _BEGIN_NOT_DURABLE)
        except _DRIVER_ERRORS:
            await self._conn.exec_driver_sql("BEGIN")  # one statement: SQLAlchemy prepares it
            if not durable:
                await self.control(_NOT_DURABLE)

    async def commit(self, early: bool = False) -> None:
        """COMMIT; `early`: without waiting for the disk (the store's `WalFlusher` makes it
        durable). Positions read in the transaction are flushed to disk before this returns
        (`made_durable`), which a COMMIT that wrote nothing does not do."""
        try:
            await self._driver.execute(_COMMIT_EARLY if early and self.durable else "COMMIT")
        except _DRIVER_ERRORS as exc:
            lost = self._driver.is_closed()
            raise DBAPIError("COMMIT", None, exc, connection_invalidated=lost) from exc
        if self.seen_positions and self._flusher.usable is not False:
            try:
                await self._driver.execute(FLUSH)
            except _DRIVER_ERRORS as exc:
                if not self._flusher.refused(exc):
                    lost = self._driver.is_closed()
                    raise DBAPIError(FLUSH, None, exc, connection_invalidated=lost) from exc

    async def made_durable(self) -> None:
        # In a transaction: at its commit, before anyone is told what it read.
        self.seen_positions = True

    async def abandon(self) -> None:
        """ROLLBACK on the driver, before the connection goes back to the pool. A connection
        that cannot take it (lost, a statement of it cancelled halfway, or this cancelled) is
        closed at once: `dead_on_checkout` keeps the pool from handing it out again, so no
        transaction left open can reach another caller."""
        try:
            await self._driver.execute("ROLLBACK")
        except BaseException as exc:
            self._driver.terminate()
            if not isinstance(exc, _DRIVER_ERRORS):
                raise

    async def control(self, sql: str) -> None:
        await self.control_many([sql])

    async def control_many(self, sqls: list[str]) -> None:
        self.changes += 1
        try:
            await self._driver.execute("; ".join(sqls))
        except Exception as exc:  # asyncpg's own errors: not SQLAlchemy's, which callers know
            raise TransactionLost(f"the transaction was lost: {exc!r}") from exc

    async def fetch_one(self, query: Query[T], params: dict[str, Any]) -> T | None:
        if not query.for_asyncpg(self._conn.dialect).readable:
            return await super().fetch_one(query, params)
        rows = await self._fetch(query, params)
        return query.decode(query.for_asyncpg(self._conn.dialect).row(rows[0])) if rows else None

    async def fetch_all(self, query: Query[T], params: dict[str, Any]) -> list[T]:
        if not query.for_asyncpg(self._conn.dialect).readable:
            return await super().fetch_all(query, params)
        rows = await self._fetch(query, params)
        decode, row = query.decode, query.for_asyncpg(self._conn.dialect).row
        return [decode(row(values)) for values in rows]

    async def _fetch(self, query: Query[Any], params: dict[str, Any]) -> list[Any]:
        await self._before(query)
        compiled = query.for_asyncpg(self._conn.dialect)
        try:
            # Every row read: a statement ends (and a RETURNING one is done) only then.
            rows: list[Any] = await self._driver.fetch(compiled.sql, *compiled.args(params))
        except _DRIVER_ERRORS as exc:
            self.changes += 1  # the transaction is void
            raise DBAPIError(compiled.sql, None, exc) from exc
        return rows

    async def write(self, prepared: Prepared, params: dict[str, Any]) -> int:
        await self._before(prepared)
        compiled = prepared.for_asyncpg(self._conn.dialect)
        try:
            status = await self._driver.execute(compiled.sql, *compiled.args(params))
        except _DRIVER_ERRORS as exc:
            raise DBAPIError(compiled.sql, None, exc) from exc
        # The command tag: "INSERT 0 1", "UPDATE 3", ...
        count = status.rpartition(" ")[2]
        return int(count) if count.isdigit() else 0

    async def write_many(self, prepared: Prepared, params: list[dict[str, Any]]) -> None:
        await self._before(prepared)
        compiled = prepared.for_asyncpg(self._conn.dialect)
        try:
            await self._driver.executemany(compiled.sql, [compiled.args(p) for p in params])
        except _DRIVER_ERRORS as exc:
            raise DBAPIError(compiled.sql, None, exc) from exc


class PostgresReadDb(Db):
    """`Db` for the statements of one `read()`, each on its own (autocommit)."""

    __slots__ = ("_flusher",)

    def __init__(self, execute: Any, flusher: WalFlusher) -> None:
        super().__init__(execute, "postgresql")
        self._flusher = flusher

    async def made_durable(self) -> None:
        """`Db.made_durable`: `FLUSH` (store/wal_flush.py) on the read's own connection, after
        the read: it flushes the WAL past every commit the read saw (the flusher's pooled
        connection could wait on a pool that readers waiting for it hold), and costs a round
        trip, without an fsync, when the WAL is on disk already. Nothing where PostgreSQL
        refuses it: then no one commits early."""
        if self._flusher.usable is False:
            return
        try:
            await self._run(text(FLUSH), None)
        except DBAPIError as exc:
            if not self._flusher.refused(exc):
                raise


class Reads:
    """The statements of one `read()`, each on its own (autocommit), on a connection taken at the
    first one. A SELECT that finds its connection lost is run once more on a new one: a
    connection can die without its socket closing (PostgreSQL's host restarted or failed over at
    the same address, a network partition that healed), so the check at checkout
    (`dead_on_checkout`) passes it, and it is found dead only when a statement is sent. SQLAlchemy
    then marks every connection of the pool that old, and the next checkout opens a new one. A
    SELECT on its own changes nothing, so running it again is safe; any other statement, and
    anything in a transaction (`transaction()`), is never run twice: it may have committed."""

    __slots__ = ("_conn", "_engine", "_retried")

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self._retried = False

    async def execute(self, statement: Any, params: Any = None) -> Any:
        if self._conn is None:
            self._conn = await self._engine.connect()
        try:
            return await self._conn.execute(statement, params)
        except DBAPIError as exc:
            lost = exc.connection_invalidated and getattr(statement, "is_select", False) is True
            if not lost or self._retried:
                raise
        self._retried = True
        await self.close()
        self._conn = await self._engine.connect()
        return await self._conn.execute(statement, params)

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            # As `async with` closes it: to the end, even when the request is cancelled meanwhile
            # (else the connection could stay checked out of the pool).
            await conn.__aexit__(None, None, None)


class PostgresStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # Reads run each statement on its own (autocommit): under READ COMMITTED a statement sees
        # what was committed when it began, inside a transaction or not, so a transaction around
        # reads only added a BEGIN and a ROLLBACK, two round trips through SQLAlchemy and asyncpg,
        # to every chatbox load and message (docs/performance.md, branch `shield4`). The same
        # pool: the option is set on the connection as it is checked out, with no statement.
        # Transactions take the same connections: `PostgresDb` begins and ends them itself.
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.search_indexes = SearchIndexKeeper(engine)
        # Early commits made durable (store/wal_flush.py), once a first flush showed that
        # PostgreSQL runs it (`_learn_flush`).
        self.flusher = WalFlusher(self._flusher_driver)
        self._probe: asyncio.Task[None] | None = None
        # The flusher's connection, one of the pool's (in autocommit), and its driver.
        self._held: tuple[AsyncConnection, Any] | None = None

    @asynccontextmanager
    async def _flusher_driver(self) -> AsyncIterator[Any]:
        """The driver of the flusher's connection: one of the pool's, kept from one flush to
        the next (checking one out costs about three times the flush's own CPU), given back
        to the pool, invalidated, when a statement on it fails."""
        if self._held is None:
            conn = await self._autocommit.connect()
            self._held = (conn, (await conn.get_raw_connection()).driver_connection)
        try:
            yield self._held[1]
        except BaseException:
            await self._let_go()
            raise

    async def _let_go(self) -> None:
        if self._held is not None:
            (conn, _), self._held = self._held, None
            await conn.invalidate()
            await conn.close()

    def _learn_flush(self) -> None:
        """Whether PostgreSQL runs `FLUSH` (`WalFlusher.probe`), learnt in the background from
        the first durable transaction on (once it has its connection: the probe takes one of
        its own); until then no transaction commits early."""
        if self._probe is None or self._probe.done():
            self._probe = asyncio.get_running_loop().create_task(
                self.flusher.probe(), name="causerie-wal-flush-probe"
            )

    @asynccontextmanager
    async def transaction(self, durable: bool = True) -> AsyncIterator[SqlTx]:
        flusher = self.flusher
        early = False
        try:
            async with self._autocommit.connect() as conn:
                db = PostgresDb(conn, flusher)
                await db.begin(durable)
                if durable and flusher.usable is None:
                    self._learn_flush()
                db.pending = Pending()
                tx = SqlTx(Repositories(db), can_commit_early=durable and flusher.usable is True)
                try:
                    yield tx
                    await db.flush_pending()
                    early = tx.early and not db.seen_positions
                    await db.commit(early)
                except BaseException:
                    await db.abandon()
                    raise
        except TransactionRaced:
            raise
        except Exception as exc:
            if is_unique_clash(exc):
                raise clash() from exc
            if is_lost_race(exc):
                raise raced(exc) from exc
            raise
        # After an early commit, once a flush has made it durable; after any other, at once
        # unless early ones before it still wait for theirs (callbacks in commit order).
        flusher.after(tx.committed, tx.lost, durable=not early)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqlTx]:
        reads = Reads(self._autocommit)
        try:
            yield SqlTx(Repositories(PostgresReadDb(reads.execute, self.flusher)))
        finally:
            await reads.close()

    @asynccontextmanager
    async def long_read(self) -> AsyncIterator[SqlTx]:
        """`Store.long_read`: a pooled connection; asyncpg never holds the loop while PostgreSQL
        works. In a transaction, unlike `read()`: a search sets `SET LOCAL` options for its
        statements, which hold only inside one."""
        async with self.engine.connect() as conn:
            yield SqlTx(Repositories(Db(conn.execute, "postgresql")))

    async def made_durable(self) -> None:
        """`Store.made_durable`: `FLUSH` on a pooled connection (`PostgresReadDb.made_durable`),
        which puts the WAL on disk past every commit made before it, early ones included."""
        async with self.read() as tx:
            await tx.db.made_durable()

    async def after_purge(self) -> None:
        # Deleted rows leave the table files at VACUUM (autovacuum's schedule); the keys of their
        # text stay in the search's trigram indexes until the `search.reindex` job rebuilds them.
        return None

    async def rebuild_search_indexes(self) -> list[str]:
        return await self.search_indexes.rebuild_stale()

    async def close(self) -> None:
        await self.flusher.idle()
        if self._probe is not None:
            await asyncio.wait([self._probe])
        if self._held is not None:
            (conn, _), self._held = self._held, None
            await conn.close()
        await self.engine.dispose()
