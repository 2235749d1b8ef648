"""Migration 0027: `conversations (state, updated_at)` and `(assignee_id)`, which held every
conversation and got an entry at each message's touch on PostgreSQL (never HOT), become three
partial indexes that an open conversation with no team and no assignee stays out of
(docs/performance.md, `pg4`). Up and down on both databases with the rows carried across, and
the plans of the queries they serve: each names its index's condition with constants (or implies
it), so PostgreSQL uses the index in a generic plan too."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg
from sqlalchemy.dialects.sqlite import pysqlite

from causerie.domain.retention import Rule
from causerie.store.migrate import head, upgrade
from causerie.store.repositories.retention import _expired_ids
from causerie.store.repositories.teams import waiting_query
from causerie.store.schema.chat import conversations
from tests.support import empty_database, execute, is_sqlite, migrate, query, sqlite_path
from tests.test_migrations import current_revision, schema_diff

OLD = "ix_conversations_state_updated_at"
RESOLVED = "ix_conversations_resolved_updated_at"
WAITING = "ix_conversations_waiting"
ASSIGNEE = "ix_conversations_assignee_id"


@pytest.fixture
def empty_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    with empty_database(database_url, tmp_path) as url:
        yield url


def downgrade(url: str, revision: str) -> None:
    migrate(url, "downgrade", revision)


def upgrade_to(url: str, revision: str) -> None:
    migrate(url, "upgrade", revision)


def indexes(url: str) -> dict[str, str]:
    """The conversations' indexes, each with its definition as the database keeps it."""
    if is_sqlite(url):
        sql = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
    else:
        sql = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ?"
    return {name: definition or "" for name, definition in query(url, sql, "conversations")}


_ROWS = (
    "INSERT INTO websites (id, name, origins, settings, created_at)"
    " VALUES ('w1', 'W', '[]', '{}', '2026-01-01 00:00:00')",
    "INSERT INTO operators (id, email, name, password_hash, password_is_temporary, created_at)"
    " VALUES ('op', 'o@x.example', 'O', NULL, false, '2026-01-01 00:00:00')",
    "INSERT INTO teams (id, website_id, name, mode, capacity, created_at)"
    " VALUES ('t1', 'w1', 'T', 'manual', 3, '2026-01-01 00:00:00')",
    *(
        "INSERT INTO sessions (id, website_id, token_hash, state, created_at, last_access_at,"
        " user_agent, page_url, page_title, page_referrer, data)"
        f" VALUES ('s{n}', 'w1', 'h{n}', 'permanent', '2026-01-01 00:00:00',"
        " '2026-01-01 00:00:00', '', '', '', '', '{}')"
        for n in range(4)
    ),
    "INSERT INTO conversations (id, website_id, session_id, state, assignee_id, created_at,"
    " updated_at, last_message_at, unread_by_visitor, unread_by_operator, team_id) VALUES"
    " ('c0', 'w1', 's0', 'open', NULL, '2026-01-01 00:00:00', '2026-01-02 00:00:00',"
    " '2026-01-02 00:00:00', 0, 1, NULL),"
    " ('c1', 'w1', 's1', 'open', 'op', '2026-01-01 00:00:00', '2026-01-03 00:00:00',"
    " '2026-01-03 00:00:00', 1, 0, NULL),"
    " ('c2', 'w1', 's2', 'resolved', NULL, '2026-01-01 00:00:00', '2026-01-04 00:00:00',"
    " '2026-01-04 00:00:00', 0, 0, 't1'),"
    " ('c3', 'w1', 's3', 'open', NULL, '2026-01-01 00:00:00', '2026-01-05 00:00:00', NULL,"
    " 0, 0, 't1')",
)
_READ = (
    "SELECT id, state, assignee_id, team_id, updated_at, last_message_at, unread_by_visitor,"
    " unread_by_operator FROM conversations ORDER BY id"
)


def test_0027_replaces_two_indexes_by_three_partial_ones_and_back_rows_kept(
    empty_url: str,
) -> None:
    upgrade_to(empty_url, "0026")
    for sql in _ROWS:
        execute(empty_url, sql)
    before = query(empty_url, _READ)
    assert len(before) == 4

    assert asyncio.run(upgrade(empty_url)) is True
    found = indexes(empty_url)
    assert OLD not in found
    assert "= 'resolved'" in found[RESOLVED].lower().replace("::text", "")
    assert "team_id is not null" in found[WAITING].lower()
    assert "assignee_id is null" in found[WAITING].lower()
    assert "assignee_id is not null" in found[ASSIGNEE].lower()
    assert schema_diff(empty_url) == []
    assert query(empty_url, _READ) == before

    downgrade(empty_url, "0026")
    found = indexes(empty_url)
    assert current_revision(empty_url) == "0026"
    assert OLD in found and RESOLVED not in found and WAITING not in found
    assert "where" not in found[ASSIGNEE].lower()
    assert query(empty_url, _READ) == before

    assert asyncio.run(upgrade(empty_url)) is True
    assert current_revision(empty_url) == head()
    assert schema_diff(empty_url) == []
    assert query(empty_url, _READ) == before


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
    return _postgres_generic_sql_plan(url, str(stmt.compile(dialect=pg_asyncpg.dialect())), args)


def _postgres_generic_sql_plan(url: str, sql: str, args: str) -> str:

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


def test_an_operator_s_deletion_finds_its_conversations_through_the_partial_index(
    empty_url: str,
) -> None:
    """ON DELETE SET NULL looks the operator's conversations up by `assignee_id = ?`, which
    implies the index's `assignee_id IS NOT NULL` on both databases, with a parameter."""
    asyncio.run(upgrade(empty_url))
    stmt = select(conversations.c.id).where(conversations.c.assignee_id == "op")
    if is_sqlite(empty_url):
        assert ASSIGNEE in _sqlite_plan(empty_url, stmt)
        # SQLite's own lookup for the foreign key's action, as it runs it.
        import sqlite3

        conn = sqlite3.connect(sqlite_path(empty_url))
        try:
            rows = conn.execute(
                "EXPLAIN QUERY PLAN UPDATE conversations SET assignee_id = NULL"
                " WHERE assignee_id = ?",
                ["op"],
            ).fetchall()
        finally:
            conn.close()
        assert ASSIGNEE in "\n".join(str(row[-1]) for row in rows)
    else:
        assert ASSIGNEE in _postgres_generic_plan(empty_url, stmt, "'op'")
        # The statement PostgreSQL's referential action prepares (ri_triggers.c).
        update_sql = (
            'UPDATE ONLY "public"."conversations" SET "assignee_id" = NULL'
            ' WHERE $1 OPERATOR(pg_catalog.=) "assignee_id"'
        )
        assert ASSIGNEE in _postgres_generic_sql_plan(empty_url, update_sql, "'op'")
