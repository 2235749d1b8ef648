"""Bringing a database schema up to date with Alembic, on SQLite or PostgreSQL.

Every missing migration runs in one transaction: an upgrade that fails, or is stopped (Ctrl-C on
`causerie migrate`, asked between two migrations), leaves the schema as it was.

Whether anything is missing is answered without Alembic (`head`, `_current`: the revisions
declared by the migration files and the one recorded in `alembic_version`), so that a server
starting on a current schema never loads it (about 10 MiB and a few hundred ms at start,
docs/performance.md); tests/test_migrations.py checks that both read the same head.
"""

from __future__ import annotations

import ast
import re
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, inspect, make_url, text

from causerie.domain.progress import QUIET, Progress, stop_if_requested
from causerie.store.database import sqlite_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"  # Alembic's own name for it
_READ_VERSION = text("SELECT version_num FROM alembic_version")


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(progress: Progress, connection: Connection) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    config = alembic_config()
    config.attributes["connection"] = connection
    pending = len(
        list(ScriptDirectory.from_config(config).iterate_revisions("head", _current(connection)))
    )
    progress.begin("migrations", pending)
    applied = 0

    def one_applied(**_: Any) -> None:
        nonlocal applied
        applied += 1
        progress.advance("migrations", 1)
        if applied < pending:
            # Stopping rolls back the ones applied: nothing is done.
            stop_if_requested(progress, {"migrations": 0})

    config.attributes["on_version_apply"] = one_applied
    command.upgrade(config, "head")


def _current(connection: Connection) -> str | None:
    """The revision recorded in the database (None before any), as Alembic reads it."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    found = connection.execute(_READ_VERSION).scalars().all()
    if len(found) > 1:
        raise RuntimeError(f"the database records several revisions: {sorted(found)}")
    return found[0] if found else None


# A top-level `revision = "..."` or `down_revision = ...` on one line, as Alembic writes them.
_ASSIGNMENT = re.compile(
    r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*(?:#.*)?$", re.MULTILINE
)


def _declared(path: Path) -> tuple[str | None, Any]:
    """(revision, down_revision) as a migration file assigns them at its top level; a file
    that assigns no revision (`__init__.py`) is no migration. Read from the assignments' lines
    (parsing every migration file at each start cost tens of milliseconds); a value that is not
    a whole literal on its line (a merge's tuple over several lines) has the file parsed."""
    source = path.read_text("utf-8")
    values: dict[str, Any] = {}
    try:
        for name, value in _ASSIGNMENT.findall(source):
            values.setdefault(name, ast.literal_eval(value))
    except (ValueError, SyntaxError):
        values = _parsed(source)
    return values.get("revision"), values.get("down_revision")


def _parsed(source: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for node in ast.parse(source).body:
        target = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            values[target.id] = ast.literal_eval(value)
    return values


def head() -> str | None:
    """The newest revision: the one no other migration follows (Alembic's one head)."""
    declared = [_declared(path) for path in (MIGRATIONS / "versions").glob("*.py")]
    revisions = {revision for revision, _ in declared if revision is not None}
    followed: set[str] = set()
    for _, down in declared:  # a merge of branches follows several
        followed.update((down,) if isinstance(down, str) else down or ())
    heads = revisions - followed
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


async def upgrade(url: str, progress: Progress = QUIET) -> bool:
    """Apply every missing migration; True when something was applied. `Stopped` when
    `progress` asked to stop between two migrations: then none was applied."""
    if make_url(url).get_backend_name() == "sqlite":
        engine = sqlite_engine(url)
        try:
            with engine.begin() as conn:
                if _current(conn) == head():
                    return False
                _upgrade(progress, conn)
            return True
        finally:
            engine.dispose()
    from causerie.store.postgres import postgres_engine

    async_engine = postgres_engine(url, pool_size=1)
    try:
        async with async_engine.begin() as aconn:
            # Nodes starting together take turns; the later ones find the schema current.
            await aconn.exec_driver_sql("SELECT pg_advisory_xact_lock(7428315)")
            if await aconn.run_sync(_current) == head():
                return False
            await aconn.run_sync(partial(_upgrade, progress))
        return True
    finally:
        await async_engine.dispose()
