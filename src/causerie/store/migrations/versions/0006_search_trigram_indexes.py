"""Trigram indexes behind the inbox's search, on PostgreSQL; nothing on SQLite.

`pg_trgm` GIN indexes on `lower(messages.body)`, `lower(sessions.nickname)` and
`lower(sessions.email)` serve the search's `lower(...) LIKE '%needle%'` for needles of 3
characters or more (docs/performance.md). `pg_trgm` ships with PostgreSQL (contrib) and is a
trusted extension: the database's owner may create it. Building the messages index reads every
message once and blocks writes to the table meanwhile (about 8 s for a million messages).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_INDEXES = (
    ("ix_messages_body_trgm", "messages", "body"),
    ("ix_sessions_nickname_trgm", "sessions", "nickname"),
    ("ix_sessions_email_trgm", "sessions", "email"),
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgresql():
        # SQLite has no index for a substring: the search scans
        # (store/repositories/conversation_list.py).
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in _INDEXES:
        op.create_index(
            name, table, [sa.text(f"lower({column}) gin_trgm_ops")], postgresql_using="gin"
        )
    # The planner chooses between these indexes and the list's own from the statistics of the
    # indexed expressions, which ANALYZE gathers now rather than at autovacuum's next pass.
    op.execute("ANALYZE messages, sessions")


def downgrade() -> None:
    if not _postgresql():
        return
    for name, table, _ in _INDEXES:
        op.drop_index(name, table_name=table)
    # pg_trgm stays: something else in the database may use it.
