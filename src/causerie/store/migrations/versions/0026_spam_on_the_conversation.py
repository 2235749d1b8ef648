"""A conversation's spam mark on its row (`conversations.spam`), not in `spam_marks`.

The mark is part of the conversation's shape for agents (docs/api.md "Conversations"): every
read of a conversation then carries it, in the list, the thread and each `conversation.updated`,
without a second query. The marks kept move to the column; `spam_marks` goes (its `marked_at` was
never read: the audit log says who marked what, when). A downgrade brings the marks back, dated
at the downgrade.

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


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("spam", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE conversations SET spam = true WHERE id IN (SELECT conversation_id FROM spam_marks)"
    )
    op.drop_table("spam_marks")


def downgrade() -> None:
    op.create_table(
        "spam_marks",
        sa.Column("conversation_id", sa.String(length=24), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_spam_marks_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_spam_marks")),
    )
    op.execute(
        "INSERT INTO spam_marks (conversation_id, marked_at)"
        " SELECT id, CURRENT_TIMESTAMP FROM conversations WHERE spam"
    )
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("spam")
