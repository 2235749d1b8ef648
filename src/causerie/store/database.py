"""Opening the database: the SQLite store (embedded default) and the PostgreSQL store.

SQLite runs on the event loop's own thread through one connection: a local query costs tens of
microseconds, less than the hop to a worker thread would, and one connection per process means
transactions of the same process never wait on each other's locks. An asyncio lock keeps one
transaction at a time on that connection. Reads that may run long go to read-only connections in
worker threads instead (`long_read()`, store/sqlite_readers.py). PostgreSQL goes through asyncpg
and a pool (store/postgres.py, imported only for a PostgreSQL URL: SQLAlchemy's asyncio layer
and its ORM, which it loads, weigh about 7 MiB).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Engine,
    Executable,
    Result,
    create_engine,
    event,
    make_url,
)
from sqlalchemy.pool import StaticPool

from causerie.private_files import make_private_database
from causerie.store.commit_thread import CommitThread, group_waiter, settle_waiters
from causerie.store.db import Params, SqliteDb
from causerie.store.failures import clash, is_unique_clash
from causerie.store.pending import Pending
from causerie.store.sqlite_readers import SQLITE_READERS, SqliteReaders
from causerie.store.tx import Repositories, SqlTx
from causerie.thread_priority import lower_this_thread

if TYPE_CHECKING:
    from causerie.store.postgres import PostgresStore

log = logging.getLogger("causerie.store")

WAL_CHECKPOINT_BYTES = 4 * 1024 * 1024  # SQLite's own automatic checkpoint is at about 4 MB
# Past this many times `WAL_CHECKPOINT_BYTES`, a commit copies back what is left of the WAL before
# the next transaction begins, so that SQLite can restart it (`_Checkpointer.overgrown`).
WAL_RESTART_FACTOR = 16

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # An fsync per commit: what is acknowledged survives a power cut (group commit pays for it).
    "PRAGMA synchronous=FULL",
    # Deleted rows are overwritten with zeros, so a destroyed session leaves no bytes behind.
    "PRAGMA secure_delete=ON",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


def driver_url(url: str) -> str:
    """`url` naming the driver Causerie uses: pysqlite, or asyncpg for PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.set(drivername="sqlite+pysqlite"))
    return str(parsed.set(drivername="postgresql+asyncpg"))


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _add_functions(dbapi_connection: Any) -> None:
    # SQLite's own lower() folds ASCII only; searches fold every letter, as on PostgreSQL.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def sqlite_engine(url: str) -> Engine:
    """A sync engine with Causerie's pragmas and explicit BEGIN (pysqlite's own is unreliable)."""
    parsed = make_url(driver_url(url))
    if parsed.database and parsed.database != ":memory:":
        make_private_database(Path(parsed.database))
    engine = create_engine(parsed, poolclass=StaticPool, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        _add_functions(dbapi_connection)
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # A statement sent through SQLAlchemy inside a group (begun on the driver, `SqliteStore`)
        # joins it: only outside one does SQLAlchemy's own transaction begin on the database.
        if not connection.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
            connection.exec_driver_sql("BEGIN")

    return engine


# The read connections' pragmas: they never write (WAL mode is the database file's own, the
# writer's connection sets it; foreign keys and secure_delete concern writes).
SQLITE_READ_PRAGMAS = ("PRAGMA query_only=ON", "PRAGMA busy_timeout=5000")


def sqlite_read_engine(url: str, connections: int = SQLITE_READERS) -> Engine:
    """An engine of read-only connections to the same file, for `SqliteReaders`: the same
    functions as the writer's (`lower`), and a snapshot per read (`BEGIN` ... `ROLLBACK`)."""
    engine = create_engine(
        make_url(driver_url(url)),
        pool_size=connections,
        max_overflow=0,
        connect_args={"check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        _add_functions(dbapi_connection)
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_READ_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


class SqliteStore:
    """One connection, on the event loop's thread, with group commit.

    Transactions take turns on the connection (`_lock`). The first one opens a group: a real
    `BEGIN`, in which each later transaction runs inside its own SAVEPOINT (so one that fails
    rolls back alone; the first, if it fails, rolls the group back whole, and those waiting open
    the next one). Transactions that were waiting join the same group; then one `COMMIT`, and
    its single fsync, makes them all durable at once, and only then does each caller's
    `async with` return.
    Under load this turns N fsyncs into one, with every acknowledgement still after its commit.

    A transaction that need not survive a power cut (`durable=False`: a temporary session, a
    last-access touch) runs in a group committed without fsync; groups never mix the two kinds.
    `read()` runs statements outside any group, without a commit to wait for; reads share the
    connection between writers' turns (`_writer_turn`, `_SqliteRead`). `long_read()` runs
    them on read-only connections in worker threads (`SqliteReaders`), off the event loop.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn = engine.connect()
        raw = self._conn.connection.driver_connection
        assert raw is not None
        self._raw = raw
        # One connection for every transaction: its repositories are built once.
        self._repositories = Repositories(SqliteDb(self._execute, raw))
        self._lock = asyncio.Lock()  # the writers' turns (transactions, commits, truncation)
        # Reads under way (`_SqliteRead`), and what a writer whose turn came waits on for them.
        self._reads = 0
        self._reads_over: asyncio.Future[None] | None = None
        self._group: asyncio.Future[None] | None = None
        self._group_durable = True
        self._group_void = False  # its first member failed: rolled back, nothing to commit
        # The futures of the open group's members that wait for its commit (`_commit`).
        self._waiters: list[asyncio.Future[None]] = []
        self._synchronous = "FULL"  # as set by SQLITE_PRAGMAS
        self._committers: set[asyncio.Task[None]] = set()
        self._commit_thread = CommitThread("causerie-sqlite-commit")
        self._checkpoints = _Checkpointer(engine.url.database)
        # Readers need the file: an in-memory database exists on the writer's connection only.
        self._readers = (
            SqliteReaders(sqlite_read_engine(str(engine.url)))
            if self._checkpoints.enabled
            else None
        )
        if self._checkpoints.enabled:
            # Checkpoints copy the WAL back into the database file and fsync it: tens of
            # milliseconds that, run automatically inside a commit, stall every request on the
            # loop. A second connection runs them in a thread instead (`_Checkpointer`).
            self._raw.execute("PRAGMA wal_autocheckpoint=0").close()
            # SQLite reuses a WAL file from its start once a checkpoint has emptied it, without
            # shrinking it: its size would then stay above the threshold for good, and a
            # checkpoint would follow every commit. Cut back below the threshold on each
            # restart, the file's size tells again how much was written since.
            limit = WAL_CHECKPOINT_BYTES // 2
            self._raw.execute(f"PRAGMA journal_size_limit={limit}").close()

    async def _execute(self, stmt: Executable, params: Params = None) -> Result[Any]:
        return self._conn.execute(stmt, params)

    async def _writer_turn(self) -> None:
        """The connection for a writer: the lock, first come first served, then the end of the
        reads under way (none starts while a writer holds the lock). Released with `_lock`."""
        await self._lock.acquire()
        try:
            while self._reads:
                if self._reads_over is None:
                    self._reads_over = asyncio.get_running_loop().create_future()
                await asyncio.shield(self._reads_over)
        except BaseException:
            self._lock.release()
            raise

    def _read_ended(self) -> None:
        self._reads -= 1
        if not self._reads and self._reads_over is not None:
            over, self._reads_over = self._reads_over, None
            over.set_result(None)

    @asynccontextmanager
    async def transaction(self, durable: bool = True) -> AsyncIterator[SqlTx]:
        await self._writer_turn()
        held = True  # False while waiting for the other group: a cancel then holds no lock
        try:
            while self._group is not None and (self._group_durable != durable or self._group_void):
                other = self._group
                self._lock.release()
                held = False
                await asyncio.wait([other])  # its outcome is its members' to see
                await self._writer_turn()
                held = True
            first = self._group is None
            if first:
                self._open_group(durable)
            tx = SqlTx(self._repositories)
            db = self._repositories.db
            # The member's savepoint, on the driver: SQLAlchemy's begin_nested() costs ten times
            # more, and transactions take turns, so one name serves them all. Not for the
            # group's first member: it undoes its writes by rolling back the whole transaction
            # (nothing else is in it yet). A savepoint makes SQLite copy each page before its
            # first change into a sub-journal, a temporary file past 64 KiB: about half the
            # CPU of a batch's inserts (docs/performance.md, "bulk2").
            if not first:
                self._raw.execute("SAVEPOINT causerie_member")
            db.pending = Pending()
            try:
                yield tx
                await db.flush_pending()
            except BaseException as exc:
                db.pending = None
                if first:
                    # Void: no one joins it (they wait for its end and open the next group),
                    # and it ends in a rollback, not a commit.
                    self._group_void = True
                    if self._raw.in_transaction:  # (SQLite may have rolled back already)
                        self._raw.execute("ROLLBACK")
                else:
                    self._raw.execute("ROLLBACK TO causerie_member")
                    self._raw.execute("RELEASE causerie_member")
                if is_unique_clash(exc):
                    raise clash() from exc
                raise
            db.pending = None
            if not first:
                self._raw.execute("RELEASE causerie_member")
            # Settled by the group's commit itself (`_commit`), not through `asyncio.shield`
            # of the group: its outer future and callback took a turn of the loop more a batch
            # (docs/performance.md, `paced3`). A member cancelled meanwhile leaves the group
            # be, as the shield did.
            waiter = group_waiter(self._waiters)
        finally:
            if held:
                self._lock.release()
        await waiter
        tx.committed()

    def read(self) -> _SqliteRead:
        return _SqliteRead(self)

    def long_read(self) -> contextlib.AbstractAsyncContextManager[SqlTx]:
        """`Store.long_read`: on a read connection in a worker thread (`SqliteReaders`)."""
        if self._readers is None:
            return self.read()
        return self._readers.read()

    def _open_group(self, durable: bool) -> asyncio.Future[None]:
        synchronous = "FULL" if durable else "NORMAL"
        if synchronous != self._synchronous:  # only settable between transactions
            self._raw.execute(f"PRAGMA synchronous={synchronous}").close()
            self._synchronous = synchronous
        # IMMEDIATE: the group takes the write lock as it begins. A deferred BEGIN would take a
        # read snapshot first, and upgrading it fails at once ("database is locked", no busy
        # wait) when another process (a CLI command, a second server on the same file) wrote
        # in between; with IMMEDIATE the busy timeout applies instead. One writer connection per
        # process: nothing in this process waits on it. On the driver, as the COMMIT: through
        # SQLAlchemy (`Connection.begin()`, its events, `exec_driver_sql`) the pair cost about
        # 80 µs of Python a batch (docs/performance.md, "relay3"). A statement sent through
        # SQLAlchemy meanwhile joins the group (`sqlite_engine`'s `_begin`), and `_end_group`
        # ends SQLAlchemy's view of it.
        self._raw.execute("BEGIN IMMEDIATE").close()
        self._group_durable = durable
        self._group_void = False
        group = self._group = asyncio.get_running_loop().create_future()
        waiters = self._waiters = []
        committer = asyncio.create_task(self._commit(group, waiters), name="causerie-sqlite-commit")
        self._committers.add(committer)
        committer.add_done_callback(self._committers.discard)
        return group

    async def _commit(
        self, group: asyncio.Future[None], waiters: list[asyncio.Future[None]]
    ) -> None:
        # At once: transactions already waiting for the lock are ahead of this task (the lock
        # is first come, first served) and join the group. A turn of the loop more let through
        # only what was ready besides, the sockets' sends and reads, while nothing was being
        # written (docs/performance.md, "Acks and events before the next batch").
        await self._writer_turn()
        try:
            self._group = None
            try:
                if self._group_void:
                    self._end_group(commit=False)  # its first member failed: nothing to commit
                elif self._group_durable:
                    # The fsync runs in a thread (sqlite3 lets go of the GIL) while this task
                    # holds the connection: the loop serves sockets meanwhile, and the
                    # transactions that queue up for the lock form the next group.
                    # The COMMIT on the driver: the thread holds the GIL only to start and
                    # to return (sqlite3 lets go of it for the statement), where SQLAlchemy's
                    # commit would run its own Python there too, waiting for the loop's thread
                    # to let go of the GIL each time.
                    await self._commit_thread.run(self._raw.commit)
                    self._end_group(commit=True)
                else:
                    self._end_group(commit=True)
            except Exception as exc:
                with contextlib.suppress(Exception):
                    self._end_group(commit=False)
                group.set_exception(exc)
                group.exception()  # marked retrieved: each member re-raises it from its await
                settle_waiters(waiters, exc)
                return
            group.set_result(None)
            settle_waiters(waiters, None)
            # The WAL's size, read once a commit (an `os.stat`) for both looks at it.
            self._checkpoints.measure()
            if self._checkpoints.overgrown():
                # Still holding the lock: the next transaction begins on a WAL wholly copied
                # back, and SQLite writes it from its start again.
                await self._checkpoints.copy_back()
        finally:
            self._lock.release()
        self._checkpoints.after_commit()

    def _end_group(self, *, commit: bool) -> None:
        """The group's transaction ended on the driver (committed if `commit` and not yet),
        and SQLAlchemy's, if a statement through it joined the group (`sqlite_engine`)."""
        if commit:
            self._raw.commit()  # nothing to do once the commit's thread committed
        else:
            self._raw.rollback()
        if self._conn.in_transaction():
            # Its transaction is the driver's, ended above: SQLAlchemy's commit or rollback
            # finds nothing left to end there, and forgets it.
            if commit:
                self._conn.commit()
            else:
                self._conn.rollback()

    async def _settled(self) -> None:
        """Until no group is open nor committing: a group's commit leaves `_group` as it starts
        (in its thread), and closing the connection under it would undo it."""
        while self._group is not None or self._committers:
            if self._group is not None:
                await asyncio.shield(self._group)
            else:
                await asyncio.wait(set(self._committers))

    async def made_durable(self) -> None:
        """`Store.made_durable`: reads between writers' turns run inside the group still open
        (`_SqliteRead`), whose rows are not committed yet: wait for the groups open or
        committing now (not for those opened after); a group that failed raises its error, so
        what was read of it is not sent."""
        group = self._group
        committing = set(self._committers)
        if committing:
            await asyncio.wait(committing)
        error = group.exception() if group is not None and group.done() else None
        if error is not None:
            raise error

    async def after_purge(self) -> None:
        await self._settled()
        await self._checkpoints.idle()
        await self._writer_turn()
        try:
            # Deleted pages are zeroed in the main file; the WAL still holds their old images
            # until a checkpoint copies them back and truncates it. Run outside any transaction,
            # on the raw connection (autocommit), in a thread: it waits for the long reads
            # (`long_read()`) still reading older pages of the WAL.
            await asyncio.to_thread(self._truncate_wal)
        finally:
            self._lock.release()

    def _truncate_wal(self) -> None:
        self._raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").close()

    async def rebuild_search_indexes(self) -> list[str]:
        return []  # SQLite's search scans: no index keeps keys of deleted text

    async def close(self) -> None:
        await self._settled()
        await self._checkpoints.close()
        self._commit_thread.close()
        if self._readers is not None:
            await self._readers.close()
        self._conn.close()
        self.engine.dispose()


class _Checkpointer:
    """Keeps the WAL short from a connection of its own, in a worker thread.

    After a commit, when the WAL has grown by `WAL_CHECKPOINT_BYTES` since the last one, a PASSIVE
    checkpoint runs in a thread: it copies what no reader still needs and never blocks the main
    connection's readers or writer. Past `WAL_RESTART_FACTOR` times that, the commit copies back
    what is left before the next transaction begins (`overgrown`, `copy_back`). `after_purge`
    waits for it, then truncates the WAL on the main connection.
    """

    def __init__(self, database: str | None) -> None:
        self.enabled = bool(database) and database != ":memory:"
        self._path = database or ""
        self._wal = f"{self._path}-wal"
        self._conn: sqlite3.Connection | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._running: asyncio.Task[None] | None = None
        self.runs = 0  # checkpoints started so far
        self.restarts = 0  # of them, those run before the next transaction (`copy_back`)
        self._size_at_last = 0  # the WAL's size when the last checkpoint started
        self._whole = False  # whether the last checkpoint copied back all the WAL it saw
        self._measured: int | None = None  # the WAL's size after the last commit (`measure`)

    def _size(self) -> int | None:
        try:
            size = os.stat(self._wal).st_size
        except OSError:
            return None
        if size < self._size_at_last:  # restarted since, and cut back (`journal_size_limit`)
            self._size_at_last = 0
        return size

    def measure(self) -> None:
        """The WAL's size now, for `overgrown` and `after_commit` to share: one `os.stat` a
        commit, not two."""
        self._measured = self._size() if self.enabled else None

    def _size_now(self) -> int | None:
        size, self._measured = self._measured, None
        return self._size() if size is None else size

    def overgrown(self) -> bool:
        """Whether the WAL should be copied back before the next transaction begins: SQLite
        writes it from its start again only in a transaction that began once it was wholly
        copied back, which under a steady load never happens (the next batch begins as soon as
        the last one committed, while a checkpoint runs), and its file grew without end (188 MB
        after 6,000 messages in `bench.messages`; docs/performance.md, `msgpath5`). When the
        last checkpoint copied back all it saw, what is left is a few commits' pages. When it did
        not (commits landed while it ran, as on a loaded machine, where the checkpoint's thread
        runs late: then none ever did, and the WAL grew on), once `WAL_CHECKPOINT_BYTES` more
        were written since it started: the wait is for that much at most, as for a checkpoint,
        and for the end of the one running, if any (on such a machine one nearly always is)."""
        if not self.enabled:
            return False
        size = self._measured
        if size is None or size < WAL_RESTART_FACTOR * WAL_CHECKPOINT_BYTES:
            return False
        grown = size - self._size_at_last >= WAL_CHECKPOINT_BYTES
        return grown or (self._running is None and self._whole)

    async def copy_back(self) -> None:
        """A checkpoint now, after the one running, awaited (the caller holds the store's
        lock)."""
        await self.idle()
        self.runs += 1
        self.restarts += 1
        self._measured = None  # copied back: `after_commit` reads the size again
        self._size_at_last = self._size() or 0
        self._running = asyncio.create_task(self._run(), name="causerie-sqlite-checkpoint")
        await self.idle()

    def after_commit(self) -> None:
        if not self.enabled or self._running is not None:
            self._measured = None
            return
        size = self._size_now()
        if size is None:
            return
        # Grown by the threshold since the last one started. SQLite restarts the WAL only for a
        # write transaction that begins once it is wholly copied back, which under a steady load
        # never happens (the next batch begins while the checkpoint runs): the file only grows,
        # and a test of its size alone started a checkpoint after nearly every commit, each
        # copying back that commit's pages and syncing the database file (docs/performance.md,
        # `msgpath5`). Copied back once per threshold, a page written by many commits is
        # copied once.
        if size - self._size_at_last >= WAL_CHECKPOINT_BYTES:
            self._size_at_last = size
            self.runs += 1
            self._running = asyncio.create_task(self._run(), name="causerie-sqlite-checkpoint")

    async def _run(self) -> None:
        if self._thread is None:
            # Its own thread, at a lower priority than the loop's (thread_priority): copying
            # pages back waits for no one, a socket's answer does.
            self._thread = ThreadPoolExecutor(
                1, thread_name_prefix="causerie-sqlite-checkpoint", initializer=lower_this_thread
            )
        try:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._checkpoint)
        except sqlite3.Error as exc:
            self._whole = False
            log.warning("WAL checkpoint failed (retried after the next commit): %s", exc)
        finally:
            self._running = None

    def _checkpoint(self) -> None:
        if self._conn is None:
            self._conn = sqlite3.connect(self._path, check_same_thread=False)
            self._conn.execute("PRAGMA busy_timeout=5000")
        busy, frames, copied = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self._whole = not busy and frames == copied

    async def idle(self) -> None:
        running = self._running
        if running is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(running)

    async def close(self) -> None:
        await self.idle()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._thread is not None:
            self._thread.shutdown()
            self._thread = None


class _SqliteRead(contextlib.AbstractAsyncContextManager[SqlTx]):
    """`SqliteStore.read()`. A class, not a generator: every chatbox load enters one.

    Reads share the connection: one waits only while a writer holds it (a transaction, whose
    uncommitted statements it must not see, or a commit), and a writer whose turn comes waits
    for the reads under way (`_writer_turn`). Were reads to queue on the writers' lock as well,
    one read waiting would make every read after it wait too (the lock is first come, first
    served, and hands itself on one turn of the loop at a time): under a load of chatbox loads
    that queue never emptied, and each read paid a wait (docs/performance.md, "renewal4")."""

    __slots__ = ("_in_group", "_store")

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self._in_group = False

    async def __aenter__(self) -> SqlTx:
        store = self._store
        while store._lock.locked():  # a writer's turn: wait for it, then let the next one be
            async with store._lock:
                pass
        # No group opens nor commits while reads are under way: this holds until the read ends.
        self._in_group = store._group is not None  # then the reads run inside the open group
        store._reads += 1
        return SqlTx(store._repositories)

    async def __aexit__(self, *exc_info: object) -> None:
        store = self._store
        try:
            # Statements run through SQLAlchemy begin a transaction (those on the driver do not):
            # the last read out ends it. The driver's flag says so as well as SQLAlchemy's own,
            # and costs less.
            if store._reads == 1 and not self._in_group and store._raw.in_transaction:
                store._conn.rollback()
        finally:
            store._read_ended()


def open_store(url: str) -> SqliteStore | PostgresStore:
    if make_url(url).get_backend_name() == "sqlite":
        return SqliteStore(sqlite_engine(url))
    from causerie.store.postgres import PostgresStore, postgres_engine

    return PostgresStore(postgres_engine(url))
