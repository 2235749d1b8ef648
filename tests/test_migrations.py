"""The migrations produce exactly `causerie.store.schema.metadata`, on SQLite and PostgreSQL, and
the SQLite store runs with the pragmas the privacy promises rely on."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.exc import IntegrityError

from causerie.store.database import sqlite_engine
from causerie.store.migrate import head, upgrade
from causerie.store.postgres import postgres_engine
from causerie.store.schema import declare_full_schema
from tests.support import empty_database, execute, is_sqlite, table_names

metadata = declare_full_schema()  # the whole declared schema, search indexes included


@pytest.fixture
def empty_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    with empty_database(database_url, tmp_path) as url:
        yield url


def _diff(connection: Connection, target: MetaData) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, target))


def _version(connection: Connection) -> Any:
    return MigrationContext.configure(connection).get_current_revision()


def declared_on(dialect: str, target: MetaData = metadata) -> MetaData:
    """`target` as made on `dialect`: without the indexes declared for another database only
    (`Index.ddl_if`, as schema.py's trigram indexes for PostgreSQL). Alembic cannot be told to
    skip them: on SQLite it warns about each expression index it finds missing."""
    elsewhere = {
        index.name
        for table in target.tables.values()
        for index in table.indexes
        if index._ddl_if is not None and index._ddl_if.dialect not in (None, dialect)
    }
    if not elsewhere:
        return target
    kept = MetaData(naming_convention=target.naming_convention)
    for table in target.sorted_tables:
        table.to_metadata(kept)  # copies lose `ddl_if`: the names tell which to drop
    for table in kept.tables.values():
        for index in [index for index in table.indexes if index.name in elsewhere]:
            table.indexes.discard(index)
    return kept


def schema_diff(url: str, target: MetaData = metadata) -> list[Any]:
    """What Alembic's autogenerate would change to make the live schema match `target`."""
    if is_sqlite(url):
        target = declared_on("sqlite", target)
        engine = sqlite_engine(url)
        try:
            with engine.connect() as conn:
                return _diff(conn, target)
        finally:
            engine.dispose()

    async def compare() -> list[Any]:
        async_engine = postgres_engine(url, pool_size=1)
        try:
            async with async_engine.connect() as conn:
                return await conn.run_sync(_diff, target)
        finally:
            await async_engine.dispose()

    return asyncio.run(compare())


def current_revision(url: str) -> Any:
    if is_sqlite(url):
        engine = sqlite_engine(url)
        try:
            with engine.connect() as conn:
                return _version(conn)
        finally:
            engine.dispose()

    async def read() -> Any:
        async_engine = postgres_engine(url, pool_size=1)
        try:
            async with async_engine.connect() as conn:
                return await conn.run_sync(_version)
        finally:
            await async_engine.dispose()

    return asyncio.run(read())


def test_migrations_produce_exactly_the_declared_schema(empty_url: str) -> None:
    assert asyncio.run(upgrade(empty_url)) is True
    assert table_names(empty_url) >= set(metadata.tables)
    assert current_revision(empty_url) == head()
    assert schema_diff(empty_url) == []


def test_the_comparison_sees_a_drift(empty_url: str) -> None:
    """Guards the test above: a live schema that differs from the tables is reported."""
    asyncio.run(upgrade(empty_url))
    execute(empty_url, "DROP INDEX ix_sessions_email")
    diff = schema_diff(empty_url)
    assert [(d[0], d[1].name) for d in diff] == [("add_index", "ix_sessions_email")]


def test_upgrade_is_idempotent(empty_url: str) -> None:
    assert asyncio.run(upgrade(empty_url)) is True
    assert asyncio.run(upgrade(empty_url)) is False
    assert current_revision(empty_url) == head()
    assert schema_diff(empty_url) == []


def test_upgrade_of_the_running_database_is_a_no_op(database_url: str) -> None:
    asyncio.run(upgrade(database_url))
    assert asyncio.run(upgrade(database_url)) is False


# -- SQLite pragmas ---------------------------------------------------------------------------


def test_sqlite_store_runs_in_wal_with_secure_delete_and_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'causerie.db'}"
    asyncio.run(upgrade(url))
    engine = sqlite_engine(url)
    try:
        with engine.connect() as conn:

            def pragma(name: str) -> Any:
                return conn.exec_driver_sql(f"PRAGMA {name}").scalar()

            assert pragma("journal_mode") == "wal"
            assert pragma("secure_delete") == 1
            assert pragma("foreign_keys") == 1
            assert pragma("busy_timeout") >= 1000
            conn.rollback()
            # foreign_keys=1 is in force: a membership of a website that does not exist fails.
            with pytest.raises(IntegrityError, match="FOREIGN KEY"), conn.begin():
                conn.execute(
                    text(
                        "INSERT INTO memberships (website_id, operator_id, role, created_at) "
                        "VALUES ('nope', 'nope', 'agent', '2026-01-01 00:00:00')"
                    )
                )
    finally:
        engine.dispose()


def test_0008_binds_a_pending_link_to_its_first_website_and_drops_granted_roles(
    tmp_path: Path,
) -> None:
    """Before 0008 an invitation granted the membership at once, and one link served every
    website that invited the same person; after it, the link grants its first website only."""
    from alembic import command

    from causerie.store.migrate import alembic_config

    engine = sqlite_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        with engine.begin() as conn:
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "0007")
            for sql in (
                "INSERT INTO websites VALUES ('wa', 'A', '[]', '{}', '2026-01-01 00:00:00')",
                "INSERT INTO websites VALUES ('wb', 'B', '[]', '{}', '2026-01-01 00:00:00')",
                "INSERT INTO operators (id, email, name, password_hash, password_is_temporary,"
                " created_at) VALUES ('new', 'n@x.example', 'n', NULL, 0, '2026-01-02 00:00:00'),"
                " ('old', 'o@x.example', 'o', 'hash', 0, '2026-01-01 00:00:00')",
                "INSERT INTO memberships VALUES ('wa', 'new', 'agent', '2026-01-02 00:00:00'),"
                " ('wb', 'new', 'owner', '2026-01-03 00:00:00'),"
                " ('wb', 'old', 'owner', '2026-01-01 00:00:00')",
                "INSERT INTO account_links VALUES ('l1', 'h1', 'invite', 'new',"
                " '2026-01-02 00:00:00', '2026-01-09 00:00:00'),"
                " ('l2', 'h2', 'invite', 'old', '2026-01-01 00:00:00', '2026-01-08 00:00:00')",
            ):
                conn.execute(text(sql))
            command.upgrade(config, "head")
            links = conn.execute(text("SELECT id, website_id, role FROM account_links")).all()
            members = conn.execute(text("SELECT website_id, operator_id FROM memberships")).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in links] == [("l1", "wa", "agent")]
    assert [tuple(row) for row in members] == [("wb", "old")]


def test_the_head_and_the_recorded_revision_are_read_as_alembic_reads_them(
    tmp_path: Path,
) -> None:
    """A server checks its schema without loading Alembic (store/migrate.py): the head read from
    the migration files, and the revision read from the database before and after migrating,
    are the ones Alembic finds."""
    from alembic.script import ScriptDirectory

    from causerie.store.migrate import _current, alembic_config

    assert head() == ScriptDirectory.from_config(alembic_config()).get_current_head()
    url = f"sqlite:///{tmp_path / 'light.db'}"
    engine = sqlite_engine(url)
    try:
        for _ in range(2):
            with engine.begin() as conn:
                assert _current(conn) == _version(conn)
            asyncio.run(upgrade(url))
        with engine.begin() as conn:
            assert _current(conn) == _version(conn) == head()
    finally:
        engine.dispose()


def test_serving_a_current_schema_never_imports_alembic(tmp_path: Path) -> None:
    """Alembic and Mako (about 10 MiB and a few hundred ms) load only when a migration runs."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'current.db'}"
    asyncio.run(upgrade(url))
    script = (
        "import asyncio, sys\n"
        "import causerie.app\n"
        "from causerie.store.migrate import upgrade\n"
        f"assert asyncio.run(upgrade({url!r})) is False\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako'))\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
