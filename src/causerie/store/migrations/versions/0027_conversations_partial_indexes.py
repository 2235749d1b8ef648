"""A message of an open conversation with no team and no assignee writes fewer index entries.

On PostgreSQL a message's touch of its conversation (`updated_at`, `last_message_at`) is never a
HOT update, since `last_message_at` is indexed for the inbox's lists: it writes an entry to every
index of the table whose condition the new row meets. Three of the seven served one rare query
each and held every conversation: `(state, updated_at)` (the retention of resolved conversations
and, by chance, a team's queue) and `(assignee_id)` (an operator's deletion). They become partial
indexes: `(updated_at) WHERE state = 'resolved'`, `(team_id, created_at) WHERE team_id IS NOT
NULL AND state = 'open' AND assignee_id IS NULL`, and `(assignee_id) WHERE assignee_id IS NOT
NULL` (docs/performance.md, `pg4`). Indexes only: every row stays as it is.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

_TABLE = "conversations"
_STATE = "ix_conversations_state_updated_at"
_RESOLVED = "ix_conversations_resolved_updated_at"
_WAITING = "ix_conversations_waiting"
_ASSIGNEE = "ix_conversations_assignee_id"
_RESOLVED_ONLY = sa.text("state = 'resolved'")
_WAITING_ONLY = sa.text("team_id IS NOT NULL AND state = 'open' AND assignee_id IS NULL")
_ASSIGNED_ONLY = sa.text("assignee_id IS NOT NULL")


def _partial(name: str, columns: list[str], where: sa.TextClause) -> None:
    op.create_index(name, _TABLE, columns, sqlite_where=where, postgresql_where=where)


def upgrade() -> None:
    op.drop_index(_STATE, table_name=_TABLE)
    op.drop_index(_ASSIGNEE, table_name=_TABLE)
    _partial(_RESOLVED, ["updated_at"], _RESOLVED_ONLY)
    _partial(_WAITING, ["team_id", "created_at"], _WAITING_ONLY)
    _partial(_ASSIGNEE, ["assignee_id"], _ASSIGNED_ONLY)


def downgrade() -> None:
    op.drop_index(_ASSIGNEE, table_name=_TABLE)
    op.drop_index(_WAITING, table_name=_TABLE)
    op.drop_index(_RESOLVED, table_name=_TABLE)
    op.create_index(_ASSIGNEE, _TABLE, ["assignee_id"])
    op.create_index(_STATE, _TABLE, ["state", "updated_at"])
