"""Teams and automatic assignment, and visitors' ratings (docs/inbox.md "Teams", "Ratings").

`teams` and `team_members` (with each member's last assignment, for round robin); conversations
gain `team_id` (the team they wait in or were assigned through) and `resolved_at` (their last
resolution); `ratings` holds one rating per resolution. Existing resolved conversations get
their `updated_at` as `resolved_at`.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("website_id", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["website_id"],
            ["websites.id"],
            name=op.f("fk_teams_website_id_websites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
    )
    op.create_index(op.f("ix_teams_website_id"), "teams", ["website_id"], unique=False)
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.String(length=24), nullable=False),
        sa.Column("operator_id", sa.String(length=24), nullable=False),
        sa.Column("last_assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_team_members_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_team_members_operator_id_operators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "operator_id", name=op.f("pk_team_members")),
    )
    op.create_index(
        op.f("ix_team_members_operator_id"), "team_members", ["operator_id"], unique=False
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_conversations_team_id_teams"),
            "teams",
            ["team_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.execute("UPDATE conversations SET resolved_at = updated_at WHERE state = 'resolved'")
    op.create_table(
        "ratings",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("website_id", sa.String(length=24), nullable=False),
        sa.Column("conversation_id", sa.String(length=24), nullable=False),
        sa.Column("operator_id", sa.String(length=24), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["website_id"],
            ["websites.id"],
            name=op.f("fk_ratings_website_id_websites"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_ratings_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_ratings_operator_id_operators"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratings")),
        sa.UniqueConstraint(
            "conversation_id", "resolved_at", name=op.f("uq_ratings_conversation_id_resolved_at")
        ),
    )
    op.create_index(
        op.f("ix_ratings_website_id_created_at"), "ratings", ["website_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_ratings_website_id_created_at"), table_name="ratings")
    op.drop_table("ratings")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_conversations_team_id_teams"), type_="foreignkey")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("team_id")
    op.drop_index(op.f("ix_team_members_operator_id"), table_name="team_members")
    op.drop_table("team_members")
    op.drop_index(op.f("ix_teams_website_id"), table_name="teams")
    op.drop_table("teams")
