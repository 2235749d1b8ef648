"""Web Push: operators' browser subscriptions and their choice of previews.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("operator_id", sa.String(length=24), nullable=False),
        sa.Column("endpoint", sa.String(length=2000), nullable=False),
        sa.Column("p256dh", sa.String(length=100), nullable=False),
        sa.Column("auth", sa.String(length=40), nullable=False),
        sa.Column("device", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_push_subscriptions_operator_id_operators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscriptions")),
        sa.UniqueConstraint("endpoint", name=op.f("uq_push_subscriptions_endpoint")),
    )
    op.create_index(
        op.f("ix_push_subscriptions_operator_id"), "push_subscriptions", ["operator_id"]
    )
    op.create_table(
        "push_preferences",
        sa.Column("operator_id", sa.String(length=24), nullable=False),
        sa.Column("previews", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_push_preferences_operator_id_operators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("operator_id", name=op.f("pk_push_preferences")),
    )


def downgrade() -> None:
    op.drop_table("push_preferences")
    op.drop_index(op.f("ix_push_subscriptions_operator_id"), table_name="push_subscriptions")
    op.drop_table("push_subscriptions")
