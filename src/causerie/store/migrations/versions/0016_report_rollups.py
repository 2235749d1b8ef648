"""Reports: hourly rollups (`report_hours`, aggregates only, P3) and what reports need to know of
each conversation (`report_conversations`, gone with it). Existing conversations get their row
(a resolved one counted as resolved when it was last updated); `causerie reports rebuild` then
fills the rollups from the source rows (docs/reports.md).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_COUNTS = (
    "chatbox_loads",
    "sessions_created",
    "conversations_started",
    "conversations_resolved",
    "messages_visitor",
    "messages_operator",
    "ratings_count",
    "ratings_sum",
)


def upgrade() -> None:
    op.create_table(
        "report_hours",
        sa.Column("website_id", sa.String(length=24), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=24), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS),
        sa.Column("first_response", _JSON, nullable=False),
        sa.Column("resolution", _JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["website_id"],
            ["websites.id"],
            name=op.f("fk_report_hours_website_id_websites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "website_id", "dimension", "key", "hour", name=op.f("pk_report_hours")
        ),
    )
    op.create_table(
        "report_conversations",
        sa.Column("conversation_id", sa.String(length=24), nullable=False),
        sa.Column("website_id", sa.String(length=24), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visitor_started", sa.Boolean(), nullable=False),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_responder_id", sa.String(length=24), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=24), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_report_conversations_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["website_id"],
            ["websites.id"],
            name=op.f("fk_report_conversations_website_id_websites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_report_conversations")),
    )
    op.create_index(
        op.f("ix_report_conversations_website_id"), "report_conversations", ["website_id"]
    )
    op.execute(
        "INSERT INTO report_conversations (conversation_id, website_id, started_at,"
        " visitor_started, resolved_at)"
        " SELECT c.id, c.website_id, c.created_at,"
        " COALESCE((SELECT m.author = 'visitor' FROM messages m WHERE m.conversation_id = c.id"
        " ORDER BY m.seq LIMIT 1), false),"
        " CASE WHEN c.state = 'resolved' THEN c.updated_at END"
        " FROM conversations c"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_report_conversations_website_id"), table_name="report_conversations")
    op.drop_table("report_conversations")
    op.drop_table("report_hours")
