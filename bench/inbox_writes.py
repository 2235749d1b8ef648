"""The writers of `bench/seed_inbox.py`: a plan's rows in bulk, bypassing the store (raw
`executemany` on SQLite, `COPY` on PostgreSQL), and the PostgreSQL databases a seeding creates
and drops."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import make_url
from sqlalchemy.dialects import sqlite as sqlite_dialect

from bench.inbox_plan import EPOCH, Plan

BATCH = 100_000  # rows per transaction (SQLite) or per COPY (PostgreSQL)
PG_PREFIX = "causerie_bench_inbox_"

SESSION_COLUMNS = (
    "id", "website_id", "token_hash", "state", "created_at", "last_access_at", "permanent_since",
    "ip", "ip_seen_at", "user_agent", "locale", "timezone", "page_url", "page_title",
    "page_referrer", "nickname", "email", "phone", "data",
)  # fmt: skip
CONVERSATION_COLUMNS = (
    "id", "website_id", "session_id", "state", "assignee_id", "created_at", "updated_at",
    "last_message_at", "unread_by_visitor", "unread_by_operator", "visitor_read_up_to",
    "operator_read_up_to",
)  # fmt: skip
MESSAGE_COLUMNS = (
    "id", "conversation_id", "author", "operator_id", "type", "body", "client_id", "created_at",
)  # fmt: skip
DATETIME_COLUMNS = {
    "created_at", "last_access_at", "permanent_since", "ip_seen_at", "updated_at",
    "last_message_at",
}  # fmt: skip


def admin_dsn(server_url: str, database: str | None = None) -> str:
    url = make_url(server_url).set(drivername="postgresql")
    if database is not None:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


async def _admin(server_url: str, sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(admin_dsn(server_url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_pg_database(server_url: str) -> tuple[str, str]:
    """A new database `causerie_bench_inbox_<hex>` on that server: (its name, its URL)."""
    url = make_url(server_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError("--database takes a postgresql:// URL")
    if url.host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("--database must point at a loopback address")
    name = PG_PREFIX + secrets.token_hex(3)
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    return name, url.set(database=name).render_as_string(hide_password=False)


def drop_pg_database(server_url: str, name: str) -> None:
    assert name.startswith(PG_PREFIX)
    asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _batches(rows: list[tuple[Any, ...]], size: int = BATCH) -> Iterator[list[tuple[Any, ...]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _converter(columns: Sequence[str], to_value: Any) -> Any:
    where = [i for i, c in enumerate(columns) if c in DATETIME_COLUMNS]

    def convert(row: tuple[Any, ...]) -> tuple[Any, ...]:
        out = list(row)
        for i in where:
            if out[i] is not None:
                out[i] = to_value(out[i])
        return tuple(out)

    return convert


def _message_converter(to_value: Any) -> Any:
    def convert(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return (*row[:-1], to_value(row[-1]))

    return convert


def write_sqlite(path: Path, plan: Plan) -> None:
    text = sqlite_dialect.DATETIME().bind_processor(sqlite_dialect.dialect())
    assert text is not None

    def as_text(us: int) -> str:
        return str(text(EPOCH + timedelta(microseconds=us)))

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # Seeding only: fewer fsyncs and a big page cache; the server uses its own pragmas.
        for pragma in ("synchronous=OFF", "cache_size=-400000", "foreign_keys=ON"):
            conn.execute(f"PRAGMA {pragma}")
        for table, columns, rows, convert in (
            ("sessions", SESSION_COLUMNS, plan.sessions, _converter(SESSION_COLUMNS, as_text)),
            (
                "conversations",
                CONVERSATION_COLUMNS,
                plan.conversations,
                _converter(CONVERSATION_COLUMNS, as_text),
            ),
            ("messages", MESSAGE_COLUMNS, plan.messages, _message_converter(as_text)),
        ):
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})"
            )
            for batch in _batches(rows):
                conn.execute("BEGIN")
                conn.executemany(sql, map(convert, batch))
                conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


async def write_postgres(url: str, plan: Plan) -> None:
    import asyncpg

    def as_datetime(us: int) -> datetime:
        return (EPOCH + timedelta(microseconds=us)).replace(tzinfo=UTC)

    conn = await asyncpg.connect(admin_dsn(url))
    try:
        for table, columns, rows, convert in (
            (
                "sessions",
                SESSION_COLUMNS,
                plan.sessions,
                _converter(SESSION_COLUMNS, as_datetime),
            ),
            (
                "conversations",
                CONVERSATION_COLUMNS,
                plan.conversations,
                _converter(CONVERSATION_COLUMNS, as_datetime),
            ),
            ("messages", MESSAGE_COLUMNS, plan.messages, _message_converter(as_datetime)),
        ):
            for batch in _batches(rows):
                await conn.copy_records_to_table(
                    table, records=[convert(r) for r in batch], columns=list(columns)
                )
        # A live database has been analysed (and vacuumed) by autovacuum long ago.
        for table in ("sessions", "conversations", "messages"):
            await conn.execute(f"VACUUM (ANALYZE) {table}")
    finally:
        await conn.close()
