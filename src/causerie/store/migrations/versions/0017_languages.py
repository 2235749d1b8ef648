"""Languages: an operator's chosen language for the inbox (`operators.language`, NULL: the
browser's), and event lines stored as a kind and parameters (`messages.event`) that the inbox
words in its reader's language. Rows written before keep their English body, shown as it is
(docs/inbox.md, "Languages").

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # Nullable columns at the end: an ALTER TABLE ADD COLUMN in either database, no table copy.
    op.add_column("operators", sa.Column("language", sa.String(8), nullable=True))
    op.add_column("messages", sa.Column("event", _JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("event")
    with op.batch_alter_table("operators") as batch:
        batch.drop_column("language")
