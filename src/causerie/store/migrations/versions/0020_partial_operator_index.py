"""`messages.operator_id`'s index keeps only operators' messages.

It serves one query, an operator's deletion (ON DELETE SET NULL); a visitor's message, most of
them, no longer writes an entry to it (docs/performance.md, "The message path near its floor").

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_INDEX = "ix_messages_operator_id"
_WHERE = sa.text("operator_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index(_INDEX, table_name="messages")
    op.create_index(
        _INDEX, "messages", ["operator_id"], sqlite_where=_WHERE, postgresql_where=_WHERE
    )


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="messages")
    op.create_index(_INDEX, "messages", ["operator_id"])
