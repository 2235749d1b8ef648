"""`Db`: one transaction's connection, as every repository of `SqlTx` uses it.

Statements are SQLAlchemy Core, built once (`Prepared`, `Query`: store/statements.py) or per
call; rows become objects through the codecs of store/codec.py. One path for both databases,
with one shortcut inside it: on SQLite (`SqliteDb`), a prepared statement is compiled once for
the driver and run on the driver's connection itself, its parameters and rows converted by the
columns' own SQLAlchemy types (so either way stores and reads the same values). Executing even a
prebuilt statement through SQLAlchemy costs 30-70 µs (execution context, parameter processing,
result wrapping); on the driver, a few (docs/performance.md). tests/test_repositories_*.py run
every repository on both databases.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable, Callable, Hashable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import (
    JSON,
    Delete,
    Executable,
    Insert,
    Result,
    Row,
    Table,
    TextClause,
    Update,
    text,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql import ClauseElement, visitors

from causerie.domain.events import NewEvent
from causerie.store.pending import Pending
from causerie.store.types import JsonType, UTCDateTime

T = TypeVar("T")

# Parameters: a dict, or a list of dicts to run the statement once per dict (executemany).
Params = dict[str, Any] | list[dict[str, Any]] | None
Execute = Callable[[Executable, Params], Awaitable[Result[Any]]]
Convert = Callable[[Any], Any]

_SQLITE = sqlite.dialect(paramstyle="qmark")


def dialect_insert(dialect: str) -> Callable[..., Any]:
    """The INSERT construct of `dialect`, with its ON CONFLICT clauses. SQLAlchemy's PostgreSQL
    dialect is imported only when asked for (2.6 MiB a server on SQLite does without)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    return sqlite.insert


def _utc_datetime(text: str) -> datetime:
    # As `UTCDateTime` stores them on SQLite: ISO text in UTC, without an offset. Parsed with
    # the offset appended: 0.25 µs, against 1.25 for parsing then `.replace(tzinfo=UTC)`.
    return datetime.fromisoformat(text + "+00:00")


class _Parsed(dict[str, datetime]):
    """The datetimes `_utc_datetime` parsed lately, by their text: a row's converter is this
    dict's `__getitem__`, a call in C where the text was seen (a batch reads its senders'
    sessions and conversations again and again: seven datetimes a message whose texts rarely
    change), `_utc_datetime` in `__missing__` otherwise. Emptied when full; a dict's get and
    set are atomic (the readers' threads convert too), and a datetime is immutable."""

    __slots__ = ()

    def __missing__(self, text: str) -> datetime:
        value = _utc_datetime(text)
        if len(self) >= _PARSED_MAX:
            self.clear()
        self[text] = value
        return value


_PARSED_MAX = 1024
_parsed_datetime: Convert = _Parsed().__getitem__


def _json(text: str) -> Any:
    if text == "{}":  # most sessions' data: no parser to run
        return {}
    # orjson: a tenth of `json.loads`'s time (a website's origins: 0.3 against 3 µs), and the
    # same values as SQLAlchemy's reader (`json.loads`) for what the store holds: the wire rules
    # keep numbers finite and within ±2**53. Past them: NaN, which orjson refuses, is read by
    # `json.loads` here too; an integer past 64 bits would come back a float.
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _result_processor(type_: Any) -> Convert | None:
    """What SQLAlchemy makes of a SQLite value of `type_`, as SQLAlchemy's own processor does,
    but in one call for the two types every row has (tests/test_repositories_*.py compare)."""
    if isinstance(type_, UTCDateTime):
        return _parsed_datetime
    if isinstance(type_, JsonType) or isinstance(type_.dialect_impl(_SQLITE), JSON):
        return _json
    process: Convert | None = type_.dialect_impl(_SQLITE).result_processor(_SQLITE, None)
    return process


# The texts of the datetimes `_utc_text` converted lately: a message's time is stored in its
# row, its conversation's touch and its two events, which a batch's flush writes table by table.
# Keyed by the instant (equal datetimes have one UTC text, whatever their zones); emptied when
# full. A dict's get and set are atomic: the readers' threads convert too.
_UTC_TEXTS: dict[datetime, str] = {}
_UTC_TEXTS_MAX = 1024


def _utc_text(value: datetime | None) -> str | None:
    # What `UTCDateTime` then SQLAlchemy's SQLite DATETIME make of a value: naive UTC as ISO text
    # with a space and six digits of microseconds. In one call: 1 µs against 3.
    if value is None:
        return None
    text = _UTC_TEXTS.get(value)
    if text is not None:
        return text
    if value.tzinfo is None:  # never kept, so never found above either
        raise ValueError("naive datetime given to the store")
    text = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if len(_UTC_TEXTS) >= _UTC_TEXTS_MAX:
        _UTC_TEXTS.clear()
    _UTC_TEXTS[value] = text
    return text


def _bind_processor(type_: Any) -> Convert | None:
    """What SQLAlchemy makes of a value of `type_` for SQLite, as its own processor does, in one
    call for a datetime and without the encoder for None and an empty JSON object (a message's
    `event`, most events' data) (tests/test_store_rows.py compares)."""
    if isinstance(type_, UTCDateTime):
        return _utc_text
    process: Convert | None = type_.dialect_impl(_SQLITE).bind_processor(_SQLITE)
    if process is not None and isinstance(type_, JsonType):
        encode = process

        def process(value: Any) -> Any:
            if value is None:  # a nullable column's None, stored as JSON's null
                return "null"
            return "{}" if type(value) is dict and not value else encode(value)

    return process


class _ForDriver:
    """A statement compiled for a driver (SQLite's, or asyncpg: `dialect`): its SQL, how to
    order and convert the parameters of a call and the values of a row, as SQLAlchemy would.
    `readable`: False when a column's conversion depends on what the driver says of it at run
    time (PostgreSQL's numeric types): such rows are read through SQLAlchemy."""

    __slots__ = ("_binds", "_converted", "_get", "_results", "readable", "sql")

    def __init__(self, stmt: Any, dialect: Any = None) -> None:
        compiled = stmt.compile(dialect=dialect or _SQLITE)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a prepared statement takes plain parameters only (no IN lists)")
        self.sql = str(compiled)
        self._binds: list[tuple[str, bool, Any, Convert | None]] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            process = (
                _bind_processor(bind.type)
                if dialect is None
                else bind.type.dialect_impl(dialect).bind_processor(dialect)
            )
            self._binds.append((name, bind.required, bind.value, process))
        # When every parameter is required (most statements), a call's values are taken at once
        # (`itemgetter`) and only those of a converting type are converted.
        self._get: Callable[[dict[str, Any]], Any] | None = None
        self._converted: list[tuple[int, Convert]] = [
            (at, process)
            for at, (_, _, _, process) in enumerate(self._binds)
            if process is not None
        ]
        if len(self._binds) > 1 and all(required for _, required, _, _ in self._binds):
            self._get = itemgetter(*(name for name, _, _, _ in self._binds))
        self.readable = True
        self._results: list[tuple[int, Convert]] = []
        for at, column in enumerate(getattr(stmt, "exported_columns", ())):
            try:
                result = (
                    _result_processor(column.type)
                    if dialect is None
                    else column.type.dialect_impl(dialect).result_processor(dialect, None)
                )
            except Exception:  # asyncpg's numeric types want the column's type code
                self.readable = False
                break
            if result is not None:
                self._results.append((at, result))

    def args(self, params: dict[str, Any]) -> list[Any]:
        get = self._get
        if get is not None:
            values = list(get(params))
            for at, convert in self._converted:
                values[at] = convert(values[at])
            return values
        out = []
        for name, required, default, process in self._binds:
            value = params[name] if required else params.get(name, default)
            out.append(value if process is None else process(value))
        return out

    def row(self, raw: tuple[Any, ...]) -> list[Any]:
        values = list(raw)
        for at, process in self._results:
            value = values[at]
            if value is not None:  # NULL stays None whatever the type: no call to make
                values[at] = process(value)
        return values


def _tables_of(stmt: Any) -> frozenset[str] | None:
    """The tables `stmt` names; None when it may reach others (a DELETE's cascades, raw SQL)."""
    if isinstance(stmt, Delete) or not isinstance(stmt, ClauseElement):
        return None
    if isinstance(stmt, TextClause):
        return None
    return frozenset(e.name for e in visitors.iterate(stmt) if isinstance(e, Table))


def _reads_only(stmt: Any) -> bool:
    return not isinstance(stmt, (Insert, Update, Delete, TextClause))


class Prepared:
    """A statement built once, with bind parameters; compiled once per database."""

    __slots__ = ("_driver", "_postgres", "_tables", "apart", "reads_only", "stmt")

    def __init__(
        self, stmt: Any, tables: frozenset[str] | None = None, *, apart: bool = False
    ) -> None:
        """`tables`: those a statement of raw SQL names (otherwise it may reach any). `apart`:
        a write to rows that no held-back write is about, run without flushing those nor
        forgetting the kept reads (`Db._before`): the repository that sends it applies it to
        what it kept. So a batch's part that starts a conversation or makes its session
        permanent neither takes the website's rows early nor makes the parts after it read
        their sessions again."""
        self.stmt = stmt
        self.apart = apart
        self._driver: _ForDriver | None = None
        self._postgres: _ForDriver | None = None
        # False: not computed yet.
        self._tables: frozenset[str] | bool | None = False if tables is None else tables
        self.reads_only = _reads_only(stmt)

    def tables(self) -> frozenset[str] | None:
        """The tables the statement names (None: any table), computed once."""
        if self._tables is False:
            self._tables = _tables_of(self.stmt)
        assert self._tables is not True
        return self._tables

    def for_driver(self) -> _ForDriver:
        if self._driver is None:
            self._driver = _ForDriver(self.stmt)
        return self._driver

    def for_asyncpg(self, dialect: Any) -> _ForDriver:
        """Compiled for asyncpg (store/postgres.py), with the parameters SQLAlchemy's asyncpg
        `dialect` would send and the conversions it would make of a row's values."""
        if self._postgres is None:
            self._postgres = _ForDriver(self.stmt, dialect)
        return self._postgres


class Query(Prepared, Generic[T]):
    """A prepared statement whose rows `decode` turns into objects (a codec, store/codec.py)."""

    __slots__ = ("decode",)

    def __init__(self, stmt: Any, decode: Callable[[Sequence[Any]], T]) -> None:
        super().__init__(stmt)
        self.decode = decode


class Db:
    """The statements of one transaction, through SQLAlchemy (`execute`: sync or async).

    `pending`: the transaction's held-back writes (store/pending.py), set by the store for the
    time of a transaction; flushed before any statement that names one of their tables (or whose
    tables are not known: a statement built per call, a DELETE), so that none misses them."""

    __slots__ = ("_run", "changes", "dialect", "pending")

    def __init__(self, execute: Execute, dialect: str) -> None:
        self._run = execute
        self.dialect = dialect
        self.pending: Pending | None = None
        # Statements sent that a rollback would have to undo: every one but a read that
        # succeeded (`Tx.part` reads it: a part that raised before any is undone in memory).
        self.changes = 0

    async def _before(self, stmt: Prepared | None) -> None:
        if stmt is None or not stmt.reads_only:
            self.changes += 1
        pending = self.pending
        if pending is None or (stmt is not None and stmt.apart):
            return
        if pending.reads and (stmt is None or not stmt.reads_only):
            tables = None if stmt is None else stmt.tables()
            if tables is None or not tables.isdisjoint(pending.read_tables):
                pending.forget_reads()
        if not pending.waiting:
            return
        tables = None if stmt is None else stmt.tables()
        if tables is None or not tables.isdisjoint(pending.tables):
            await self.flush_pending()

    async def fetch_all_kept(self, query: Query[T], params: dict[str, Any]) -> list[T]:
        """`fetch_all`, its rows kept for the rest of the transaction: read again only after a
        statement that may write the query's tables (or a rolled back savepoint). For what a
        batch reads once per part and never writes (a website's webhooks)."""
        pending = self.pending
        tables = query.tables()
        if pending is None or tables is None:
            return await self.fetch_all(query, params)
        key = (id(query), *sorted(params.items()))
        kept = pending.reads.get(key)
        if kept is None:
            kept = await self.fetch_all(query, params)
            pending.keep(key, kept, tables)
        return list(kept)

    def kept(self, key: Hashable) -> Any:
        """What `keep` kept under `key` in this transaction and is still true; None if nothing."""
        return None if self.pending is None else self.pending.reads.get(key)

    def forget_kept(self) -> None:
        """Forget what this transaction kept (a write whose effect on it is not known)."""
        if self.pending is not None:
            self.pending.forget_reads()

    def keep(self, key: Hashable, value: Any, tables: frozenset[str]) -> None:
        """Keep `value`, read from `tables`, for the rest of the transaction: forgotten at any
        statement that may write one of them (or a rolled back savepoint). Nothing is kept
        outside a transaction that holds writes back."""
        if self.pending is not None:
            self.pending.keep(key, value, tables)

    async def flush_pending(self) -> None:
        """Run the held-back writes now (the store calls it before committing)."""
        if self.pending is not None and self.pending.waiting:
            await self.pending.flush(self._bump_streams, self._insert_events, self.write_many)

    async def append_events(self, new: list[NewEvent]) -> list[int]:
        """Append events now, after those held back (which go first: they were added first);
        their seqs. Outside a transaction that holds writes back, on their own."""
        pending = self.pending or Pending()
        seqs = pending.add_events(new)
        await pending.flush(self._bump_streams, self._insert_events, self.write_many)
        return seqs()

    async def _bump_streams(
        self, steps: dict[str, int], owners: dict[str, str | None]
    ) -> dict[str, int]:
        from causerie.store import statements  # it imports this module

        # Streams in a fixed order, so that two transactions never wait on each other's rows.
        params: dict[str, Any] = {}
        for i, stream in enumerate(sorted(steps)):
            params.update(
                {f"stream{i}": stream, f"step{i}": steps[stream], f"session{i}": owners[stream]}
            )
        bump = statements.upserts(self.dialect).bump_streams(len(steps))
        return dict(await self.fetch_all(bump, params))

    async def _insert_events(self, rows: list[dict[str, Any]]) -> None:
        from causerie.store import statements

        await self.write_many(statements.INSERT_EVENT, rows)

    async def execute(self, stmt: Executable, params: Params = None) -> Result[Any]:
        await self._before(None)
        return await self._run(stmt, params)

    async def one(self, stmt: Executable, params: dict[str, Any] | None = None) -> Row[Any] | None:
        await self._before(None)
        return (await self._run(stmt, params)).first()

    async def count(self, stmt: Executable, params: dict[str, Any] | None = None) -> int:
        await self._before(None)
        row = (await self._run(stmt, params)).first()
        return int(row[0]) if row else 0

    def insert(self, table: Any) -> Any:
        """The dialect's INSERT, with its ON CONFLICT clauses."""
        return dialect_insert(self.dialect)(table)

    async def fetch_one(self, query: Query[T], params: dict[str, Any]) -> T | None:
        await self._before(query)
        try:
            row = (await self._run(query.stmt, params)).first()
        except BaseException:
            self.changes += 1  # a failed statement: on PostgreSQL, the transaction is void
            raise
        return None if row is None else query.decode(row)

    async def fetch_all(self, query: Query[T], params: dict[str, Any]) -> list[T]:
        await self._before(query)
        decode = query.decode
        try:
            rows = await self._run(query.stmt, params)
        except BaseException:
            self.changes += 1
            raise
        return [decode(row) for row in rows]

    async def write(self, prepared: Prepared, params: dict[str, Any]) -> int:
        """Run a statement that returns no rows; how many rows it changed."""
        await self._before(prepared)
        result = await self._run(prepared.stmt, params)
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def write_many(self, prepared: Prepared, params: list[dict[str, Any]]) -> None:
        await self._before(prepared)
        await self._run(prepared.stmt, params)

    async def add_later(
        self,
        prepared: Prepared,
        key: tuple[Any, ...],
        params: dict[str, Any],
        sums: tuple[str, ...],
    ) -> None:
        """An additive upsert (it adds `params[s]` to its row for each `s` in `sums`; `key`: the
        row's, from its other parameters): held back and merged with the transaction's others of
        the same row (`Pending.add`), or run now outside a transaction that holds writes back."""
        tables = prepared.tables()
        if self.pending is None or tables is None or len(tables) != 1:
            await self.write(prepared, params)
            return
        (table,) = tables
        self.pending.add(prepared, key, params, sums, table)

    async def made_durable(self) -> None:
        """Until what this transaction or read has seen is durable: called after a read of
        positions in the event log, which clients resume from. Nothing to wait for here: a
        commit is durable before anyone sees it, except on PostgreSQL after an early commit
        (`Tx.commit_early`; `PostgresDb`, `PostgresReadDb`)."""
        return None

    async def control(self, sql: str) -> None:
        """A statement of transaction control (`SAVEPOINT`, `RELEASE`, `ROLLBACK TO`)."""
        self.changes += 1
        await self._run(text(sql), None)

    async def control_many(self, sqls: list[str]) -> None:
        """Statements of transaction control, in order (in one round trip where the driver
        can: `PostgresDb`)."""
        for sql in sqls:
            await self.control(sql)


class SqliteDb(Db):
    """`Db` on SQLite: prepared statements run on the driver's connection (`raw`), under the
    same transaction as everything else."""

    __slots__ = ("_raw",)

    def __init__(self, execute: Execute, raw: sqlite3.Connection) -> None:
        super().__init__(execute, "sqlite")
        self._raw = raw

    async def fetch_one(self, query: Query[T], params: dict[str, Any]) -> T | None:
        rows = await self._fetch(query, params)
        return query.decode(query.for_driver().row(rows[0])) if rows else None

    async def fetch_all(self, query: Query[T], params: dict[str, Any]) -> list[T]:
        rows = await self._fetch(query, params)
        decode, row = query.decode, query.for_driver().row
        return [decode(row(values)) for values in rows]

    async def fetch_raw(self, query: Prepared, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """The first row as the driver gives it, for a repository that converts it itself."""
        rows = await self._fetch(query, params)
        return tuple(rows[0]) if rows else None

    async def _fetch(self, query: Prepared, params: dict[str, Any]) -> list[Any]:
        await self._before(query)
        driver = query.for_driver()
        try:
            # Every row read: a statement ends (and a RETURNING one is done) only then.
            return self._raw.execute(driver.sql, driver.args(params)).fetchall()
        except BaseException:
            self.changes += 1
            raise

    async def write(self, prepared: Prepared, params: dict[str, Any]) -> int:
        await self._before(prepared)
        driver = prepared.for_driver()
        return self._raw.execute(driver.sql, driver.args(params)).rowcount

    async def write_many(self, prepared: Prepared, params: list[dict[str, Any]]) -> None:
        await self._before(prepared)
        driver = prepared.for_driver()
        self._raw.executemany(driver.sql, [driver.args(p) for p in params])

    async def control(self, sql: str) -> None:
        self.changes += 1
        self._raw.execute(sql).close()


class SqlRepository:
    """A repository over the transaction's `Db`."""

    __slots__ = ("_db",)

    def __init__(self, db: Db) -> None:
        self._db = db
