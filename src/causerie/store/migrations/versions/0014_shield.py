"""The shield (P18): block rules, spam marks, per-network counts per window, network counts
keyed by hash.

`network_stats` named its networks in clear (`203.0.113.0/24`); it is now keyed by the network's
keyed hash, which a migration cannot compute (the secret key is not the database's): the rows
counted so far are dropped.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "block_rules",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("website_id", sa.String(length=24), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=512), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=24), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["website_id"],
            ["websites.id"],
            name=op.f("fk_block_rules_website_id_websites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_block_rules")),
    )
    with op.batch_alter_table("block_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_block_rules_website_id"), ["website_id"], unique=False)
    op.create_table(
        "shield_counts",
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("network", sa.String(length=32), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("window_start", "network", "metric", name=op.f("pk_shield_counts")),
    )
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
    op.execute("DELETE FROM network_stats")


def downgrade() -> None:
    op.drop_table("spam_marks")
    op.drop_table("shield_counts")
    with op.batch_alter_table("block_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_block_rules_website_id"))
    op.drop_table("block_rules")
