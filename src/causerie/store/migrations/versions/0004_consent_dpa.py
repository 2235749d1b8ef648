"""Privacy tools: visitors' consent on their session, DPA acceptances per website.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "dpa_acceptances",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("website_id", sa.String(length=24), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("operator_id", sa.String(length=24), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["website_id"],
            ["websites.id"],
            name=op.f("fk_dpa_acceptances_website_id_websites"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_dpa_acceptances_operator_id_operators"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dpa_acceptances")),
    )
    with op.batch_alter_table("dpa_acceptances", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dpa_acceptances_website_id_accepted_at"),
            ["website_id", "accepted_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("dpa_acceptances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dpa_acceptances_website_id_accepted_at"))
    op.drop_table("dpa_acceptances")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("consent_at")
        batch_op.drop_column("consent_version")
