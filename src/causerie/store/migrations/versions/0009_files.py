"""Files in the chat: the `files` table, one row per message of type `file` (docs/api.md
"Files"). The bytes live in the file store; a row holds their keys, name, size and type.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("message_id", sa.String(length=24), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("store_key", sa.String(length=24), nullable=True),
        sa.Column("thumbnail_key", sa.String(length=24), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_files_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_files")),
    )
    op.create_index(op.f("ix_files_message_id"), "files", ["message_id"], unique=True)
    op.create_index(op.f("ix_files_created_at"), "files", ["created_at"])
    op.create_index(op.f("ix_files_store_key"), "files", ["store_key"])


def downgrade() -> None:
    op.drop_table("files")
