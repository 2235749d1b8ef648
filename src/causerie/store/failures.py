"""Which database errors mean "the server cannot store right now", not a bug (docs/api.md).

A full disk, an I/O error, a read-only database (a PostgreSQL standby after a failover), a lost
or refused connection: the client gets 503 `storage_unavailable` and may try again. Any other
error is a bug and answers 500 `internal_error`. The transport asks `is_storage_failure` about
the `STORAGE_ERRORS`; `app.py` wires them, so the transport knows nothing of either database.
"""

from __future__ import annotations

import logging
import sqlite3

from sqlalchemy.exc import DBAPIError

from causerie.domain.errors import Conflict
from causerie.domain.ports import TransactionRaced

log = logging.getLogger("causerie.store")

# The kinds of exception a database failure arrives as (`is_storage_failure` tells which are).
STORAGE_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.Error,
    DBAPIError,
    ConnectionError,
)

# SQLite primary result codes (an extended code keeps its primary code in the low byte).
_SQLITE = frozenset(
    {
        5,  # SQLITE_BUSY: another process holds the database past busy_timeout
        8,  # SQLITE_READONLY
        10,  # SQLITE_IOERR
        13,  # SQLITE_FULL: the disk, or max_page_count
        14,  # SQLITE_CANTOPEN
    }
)
# PostgreSQL SQLSTATE classes and codes: 08 connection exception, 53 insufficient resources
# (53100 disk_full), 58 system error (I/O), 57P01-57P03 shutdown, 25006 read-only transaction,
# and a transaction that lost a race (`_POSTGRES_RACES`) after its retries, if any: trying again
# later may succeed.
_POSTGRES_CLASSES = ("08", "53", "58")
_POSTGRES_RACES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
_POSTGRES_CODES = frozenset({"57P01", "57P02", "57P03", "25006"}) | _POSTGRES_RACES


def is_storage_failure(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps) says the database cannot store or answer right now."""
    # What it wraps (SQLAlchemy's `orig`, `raise ... from`), and what it was raised while
    # handling: a rollback that fails after SQLITE_FULL hides the full disk in its context.
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if _says_unavailable(current):
            return True
        wrapped = getattr(current, "orig", None)
        for inner in (wrapped, current.__cause__, current.__context__):
            if isinstance(inner, BaseException):
                pending.append(inner)
    return False


# A row that another writer inserted first: SQLITE_CONSTRAINT_UNIQUE and _PRIMARYKEY (extended
# codes), PostgreSQL's unique_violation.
_SQLITE_UNIQUE = frozenset({2067, 1555})
_POSTGRES_UNIQUE = "23505"


def is_unique_clash(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps) is a unique key taken between a check and a write: two
    clients racing to create the same name (a label, a shortcut) on PostgreSQL, or another
    process writing the same SQLite file. The store answers it as a `Conflict` to try again."""
    current: BaseException | None = exc
    for _ in range(4):
        if current is None:
            return False
        if isinstance(current, sqlite3.Error):
            return getattr(current, "sqlite_errorcode", None) in _SQLITE_UNIQUE
        if getattr(current, "sqlstate", None) == _POSTGRES_UNIQUE:
            return True
        inner = getattr(current, "orig", None)
        current = inner if isinstance(inner, BaseException) else current.__cause__
    return False


def is_lost_race(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps) is PostgreSQL ending a transaction to break a deadlock or
    a serialization conflict: the whole transaction is void, and may be run again."""
    current: BaseException | None = exc
    for _ in range(4):
        if current is None:
            return False
        if getattr(current, "sqlstate", None) in _POSTGRES_RACES:
            return True
        inner = getattr(current, "orig", None)
        current = inner if isinstance(inner, BaseException) else current.__cause__
    return False


def raced(exc: BaseException) -> TransactionRaced:
    log.info("a transaction lost a race with another (%s); it may be run again", type(exc).__name__)
    return TransactionRaced(f"the transaction lost a race with another: {exc!r}")


def _says_unavailable(exc: BaseException) -> bool:
    if getattr(exc, "connection_invalidated", False) is True:  # SQLAlchemy: a lost connection
        return True
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return isinstance(code, int) and code & 0xFF in _SQLITE
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate[:2] in _POSTGRES_CLASSES or sqlstate in _POSTGRES_CODES
    return isinstance(exc, ConnectionError)


def clash() -> Conflict:
    """A unique key another writer took between this transaction's check and its write: nothing
    was changed, and trying again sees the other's row (docs/api.md, "Errors")."""
    log.info("a transaction lost a race for a unique key; answered 409 conflict")
    return Conflict("another change to the same thing happened at the same time; try again")
