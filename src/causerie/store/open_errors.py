"""Why a database cannot be opened, in one line a person can act on (docs/cli.md).

A server that is down, a database or role that does not exist, a file that cannot be created:
each raises something different from deep inside a driver. `explain_open_error` turns those into
a sentence naming the database (never its password) and what to do; anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import socket
import sqlite3

from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError

# PostgreSQL's SQLSTATE codes for a database that cannot be used at all, and what to do.
_SQLSTATE_ADVICE = {
    "3D000": "create it (createdb) or fix CAUSERIE_DATABASE_URL",
    "28000": "create the role or fix the user in CAUSERIE_DATABASE_URL",
    "28P01": "fix the password in CAUSERIE_DATABASE_URL",
    "42501": "grant the role the right to create tables in this database",
    "57P03": "the server is starting or stopping: try again in a moment",
    "53300": "the server has too many connections: try again, or raise its max_connections",
}


def _sqlstate(exc: BaseException) -> tuple[str, str] | None:
    """The SQLSTATE and message of the PostgreSQL error somewhere in `exc`'s chain."""
    seen: BaseException | None = exc
    while seen is not None:
        code = getattr(seen, "sqlstate", None)
        if isinstance(code, str):
            return code, str(seen)
        seen = seen.__cause__ or seen.__context__
    return None


def explain_open_error(exc: BaseException, url: str) -> str | None:
    """One line saying why the database at `url` cannot be opened or brought up to date, and
    what to do; None when `exc` is not such an error."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        where = parsed.database or url
        if isinstance(exc, OSError):
            return f"cannot open the SQLite database {where}: {exc.strerror or exc}"
        if isinstance(exc, DBAPIError) and isinstance(exc.orig, sqlite3.OperationalError):
            return f"cannot open the SQLite database {where}: {exc.orig}"
        return None
    shown = parsed.render_as_string(hide_password=True)
    address = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    if isinstance(exc, socket.gaierror):
        return f"cannot reach PostgreSQL ({shown}): unknown host {parsed.host!r}"
    if isinstance(exc, ConnectionRefusedError):
        return (
            f"cannot reach PostgreSQL ({shown}): nothing answers at {address}; "
            "start PostgreSQL or fix CAUSERIE_DATABASE_URL"
        )
    if isinstance(exc, TimeoutError):
        return f"cannot reach PostgreSQL ({shown}): {address} does not answer"
    if isinstance(exc, OSError):
        return f"cannot reach PostgreSQL ({shown}): {exc.strerror or exc}"
    found = _sqlstate(exc)
    if found is not None and found[0] in _SQLSTATE_ADVICE:
        code, message = found
        return f"cannot use PostgreSQL ({shown}): {message}; {_SQLSTATE_ADVICE[code]}"
    return None
