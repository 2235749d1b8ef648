"""The tables, one module per area (accounts, chat, shield, upkeep, notifications, reports), all
declared on one `metadata`: importing this package declares them all, so `metadata` is the whole
schema. Migrations in `migrations/versions` must produce exactly this, search indexes included
(`declare_full_schema`; tests compare them).

Personal data lives in `chat.sessions` (IP, user agent, page, profile) and `chat.messages`
(bodies); docs/privacy.md lists each field with its purpose and retention.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, MetaData, func

from causerie.store.schema import accounts, chat, notifications, reports, shield, upkeep
from causerie.store.schema.base import metadata
from causerie.store.schema.chat import (
    ASSIGNED_ONLY,
    OPERATORS_ONLY,
    RESOLVED_ONLY,
    WAITING_ONLY,
    conversations,
    messages,
    sessions,
)
from causerie.store.schema.reports import (
    PENDING,
    PENDING_DAYS,
    UNRANKED,
    report_day_histograms,
    report_days,
)

# Importing an area's module declares its tables on `metadata`.
__all__ = [
    "TRIGRAM_INDEXES",
    "accounts",
    "chat",
    "declare_full_schema",
    "metadata",
    "notifications",
    "reports",
    "shield",
    "upkeep",
]

# The GIN trigram indexes on `lower(column)` behind the inbox's search, PostgreSQL only (migration
# 0006); SQLite has none, its search scans.
TRIGRAM_INDEXES: tuple[tuple[str, Column[str]], ...] = (
    ("ix_messages_body_trgm", messages.c.body),
    ("ix_sessions_nickname_trgm", sessions.c.nickname),
    ("ix_sessions_email_trgm", sessions.c.email),
)


def declare_full_schema() -> MetaData:
    """`metadata`, with what only PostgreSQL uses declared (once): the `TRIGRAM_INDEXES` and the
    partial forms of `messages.operator_id`'s, `conversations`' and `report_day_histograms`'
    indexes. They are declared when asked for, by the migrations' environment and the tests that
    compare the schema, rather than at import: their options have SQLAlchemy import its
    PostgreSQL dialect (2.6 MiB) into every process, and a running server never reads them."""
    for name, column in TRIGRAM_INDEXES:
        if any(index.name == name for index in column.table.indexes):
            continue
        Index(
            name,
            func.lower(column).label(column.name),
            postgresql_using="gin",
            postgresql_ops={column.name: "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql")
    for index in messages.indexes:
        if [c.name for c in index.columns] == ["operator_id"]:
            index.dialect_kwargs["postgresql_where"] = OPERATORS_ONLY
    partial = {
        "ix_conversations_resolved_updated_at": RESOLVED_ONLY,
        "ix_conversations_waiting": WAITING_ONLY,
        "ix_conversations_assignee_id": ASSIGNED_ONLY,
    }
    for index in conversations.indexes:
        if index.name in partial:
            index.dialect_kwargs["postgresql_where"] = partial[index.name]
    for index in report_day_histograms.indexes:
        pending = index.name == "ix_report_day_histograms_pending"
        index.dialect_kwargs["postgresql_where"] = PENDING if pending else UNRANKED
    for index in report_days.indexes:
        if index.name == "ix_report_days_pending":
            index.dialect_kwargs["postgresql_where"] = PENDING_DAYS
    return metadata
