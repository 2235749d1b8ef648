"""Bringing a database schema up to date with Alembic, on SQLite or PostgreSQL.

Every missing migration runs in one transaction: an upgrade that fails, or is stopped (Ctrl-C on
`causerie migrate`, asked between two migrations), leaves the schema as it was.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, make_url

from causerie.domain.progress import QUIET, Progress, stop_if_requested
from causerie.store.database import postgres_engine, sqlite_engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(progress: Progress, connection: Connection) -> None:
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


def _current(connection: Connection) -> Any:
    return MigrationContext.configure(connection).get_current_revision()


def head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


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
