"""An open conversation's messages no longer move an index entry for the retention.

`conversations (state, updated_at)` served two queries: the retention of resolved conversations
idle past a cut-off, and a team's queue (open, unassigned, oldest first). Every message moved the
entry of its open conversation. It becomes two partial indexes, neither of which a message moves:
`(updated_at) WHERE state = 'resolved'` and `(team_id, created_at) WHERE state = 'open' AND
assignee_id IS NULL` (docs/performance.md, `msgpath6`).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

_TABLE = "conversations"
_OLD = "ix_conversations_state_updated_at"
_RESOLVED = "ix_conversations_resolved_updated_at"
_WAITING = "ix_conversations_waiting"
_RESOLVED_ONLY = sa.text("state = 'resolved'")
_WAITING_ONLY = sa.text("state = 'open' AND assignee_id IS NULL")


def upgrade() -> None:
    op.drop_index(_OLD, table_name=_TABLE)
    op.create_index(
        _RESOLVED,
        _TABLE,
        ["updated_at"],
        sqlite_where=_RESOLVED_ONLY,
        postgresql_where=_RESOLVED_ONLY,
    )
    op.create_index(
        _WAITING,
        _TABLE,
        ["team_id", "created_at"],
        sqlite_where=_WAITING_ONLY,
        postgresql_where=_WAITING_ONLY,
    )


def downgrade() -> None:
    op.drop_index(_WAITING, table_name=_TABLE)
    op.drop_index(_RESOLVED, table_name=_TABLE)
    op.create_index(_OLD, _TABLE, ["state", "updated_at"])
