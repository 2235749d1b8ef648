"""`Db`: one transaction's connection, as every repository of `SqlTx` uses it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Executable, Result, Row
from sqlalchemy.dialects import postgresql, sqlite

from causerie.store import sqlite_hot, statements

# Parameters: a dict, or a list of dicts to run the statement once per dict (executemany).
Params = dict[str, Any] | list[dict[str, Any]] | None
Execute = Callable[[Executable, Params], Awaitable[Result[Any]]]


class Db:
    """`execute` runs a statement on the transaction's connection (sync or async driver).

    On SQLite, `raw` is the driver's connection under the same transaction: the message path's
    statements (`sqlite_hot`) run on it directly, everything else through SQLAlchemy.
    """

    __slots__ = ("_run", "dialect", "prepared", "raw")

    def __init__(self, execute: Execute, dialect: str, raw: sqlite_hot.Raw | None = None) -> None:
        self._run = execute
        self.dialect = dialect
        self.raw = raw
        self.prepared = statements.BY_DIALECT[dialect]

    async def execute(self, stmt: Executable, params: Params = None) -> Result[Any]:
        return await self._run(stmt, params)

    async def one(self, stmt: Executable, params: dict[str, Any] | None = None) -> Row[Any] | None:
        return (await self._run(stmt, params)).first()

    async def count(self, stmt: Executable, params: dict[str, Any] | None = None) -> int:
        row = (await self._run(stmt, params)).first()
        return int(row[0]) if row else 0

    def insert(self, table: Any) -> Any:
        """The dialect's INSERT, with its ON CONFLICT clauses."""
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)


class SqlRepository:
    """A repository over the transaction's `Db`."""

    __slots__ = ("_db",)

    def __init__(self, db: Db) -> None:
        self._db = db
