"""Migration 0026: `conversations (state, updated_at)`, whose entry every message of an open
conversation moved, becomes two partial indexes that a message does not move (docs/performance.md,
`msgpath6`). Up and down on both databases, and the plans of the two queries they serve: each
names its index's condition with constants, so PostgreSQL uses the index in a generic plan too."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg
from sqlalchemy.dialects.sqlite import pysqlite

from causerie.domain.retention import Rule
from causerie.store.database import sqlite_engine
from causerie.store.migrate import alembic_config, head, upgrade
from causerie.store.postgres import postgres_engine
from causerie.store.repositories.retention import _expired_ids
from causerie.store.repositories.teams import waiting_query
from tests.support import empty_database, is_sqlite, query, sqlite_path
from tests.test_migrations import current_revision, schema_diff

OLD = "ix_conversations_state_updated_at"
RESOLVED = "ix_conversations_resolved_updated_at"
WAITING = "ix_conversations_waiting"


@pytest.fixture
def empty_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    with empty_database(database_url, tmp_path) as url:
        yield url


def _downgrade_on(connection: Connection, revision: str) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


def downgrade(url: str, revision: str) -> None:
    if is_sqlite(url):
        engine = sqlite_engine(url)
        try:
            with engine.begin() as conn:
                _downgrade_on(conn, revision)
        finally:
            engine.dispose()
        return

    async def run() -> None:
        engine = postgres_engine(url, pool_size=1)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(_downgrade_on, revision)
        finally:
            await engine.dispose()

    asyncio.run(run())


def indexes(url: str) -> dict[str, str]:
    """The conversations' indexes, each with its definition as the database keeps it."""
    if is_sqlite(url):
        sql = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
    else:
        sql = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ?"
    return {name: definition or "" for name, definition in query(url, sql, "conversations")}


def test_0026_replaces_the_state_index_by_two_partial_ones_and_back(empty_url: str) -> None:
    asyncio.run(upgrade(empty_url))
    found = indexes(empty_url)
    assert OLD not in found
    assert "resolved" in found[RESOLVED].lower() and "where" in found[RESOLVED].lower()
    assert "assignee_id is null" in found[WAITING].lower()
    assert schema_diff(empty_url) == []

    downgrade(empty_url, "0025")
    found = indexes(empty_url)
    assert current_revision(empty_url) == "0025"
    assert OLD in found and RESOLVED not in found and WAITING not in found

    assert asyncio.run(upgrade(empty_url)) is True
    assert current_revision(empty_url) == head()
    assert schema_diff(empty_url) == []


def _sqlite_plan(url: str, stmt: Any) -> str:
    compiled = stmt.compile(dialect=pysqlite.dialect())
    params = [str(value) for value in compiled.construct_params().values()]
    import sqlite3

    conn = sqlite3.connect(sqlite_path(url))
    try:
        rows = conn.execute(f"EXPLAIN QUERY PLAN {compiled}", params).fetchall()
    finally:
        conn.close()
    return "\n".join(str(row[-1]) for row in rows)


def _postgres_generic_plan(url: str, stmt: Any, args: str) -> str:
    """The plan PostgreSQL keeps for `stmt` prepared once and run again with other values (a
    generic plan: it cannot use a partial index whose condition a parameter would decide)."""
    sql = str(stmt.compile(dialect=pg_asyncpg.dialect()))

    async def explain() -> str:
        conn = await asyncpg.connect(url, timeout=5)
        try:
            # Tables of a few rows are read whole whatever the indexes: scans made dear.
            await conn.execute("SET plan_cache_mode = force_generic_plan")
            await conn.execute("SET enable_seqscan = off")
            await conn.execute(f"PREPARE q AS {sql}")
            rows = await conn.fetch(f"EXPLAIN EXECUTE q({args})")
            return "\n".join(row[0] for row in rows)
        finally:
            await conn.close()

    return asyncio.run(explain())


def test_the_retention_and_a_team_s_queue_read_their_partial_indexes(empty_url: str) -> None:
    asyncio.run(upgrade(empty_url))
    resolved, _ = _expired_ids(Rule.RESOLVED_CONVERSATIONS, datetime(2026, 1, 1, tzinfo=UTC), None)
    queue = waiting_query("team", 10)
    if is_sqlite(empty_url):
        assert RESOLVED in _sqlite_plan(empty_url, resolved)
        plan = _sqlite_plan(empty_url, queue)
        assert WAITING in plan
    else:
        assert RESOLVED in _postgres_generic_plan(empty_url, resolved, "'2026-01-01'")
        plan = _postgres_generic_plan(empty_url, queue, "'team', 10")
        assert WAITING in plan
    # The queue is read in its index's order: nothing to sort but ties of `created_at`.
    assert "TEMP B-TREE FOR ORDER BY" not in plan.upper()
