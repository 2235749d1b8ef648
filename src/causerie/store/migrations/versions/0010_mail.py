"""Mail (docs/notifications.md): operators' notification preferences, reply addresses (token
hashes), addresses the mail server refused for good, and visitors who unsubscribed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "notification_preferences",
        sa.Column("operator_id", sa.String(length=24), nullable=False),
        sa.Column("preferences", _JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk("notification_preferences", "operator_id", "operators"),
        sa.PrimaryKeyConstraint("operator_id", name=op.f("pk_notification_preferences")),
    )
    op.create_table(
        "reply_addresses",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=24), nullable=False),
        sa.Column("session_id", sa.String(length=24), nullable=False),
        sa.Column("operator_id", sa.String(length=24), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _fk("reply_addresses", "conversation_id", "conversations"),
        _fk("reply_addresses", "session_id", "sessions"),
        _fk("reply_addresses", "operator_id", "operators"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_reply_addresses")),
    )
    for column in ("session_id", "conversation_id", "operator_id", "expires_at"):
        op.create_index(op.f(f"ix_reply_addresses_{column}"), "reply_addresses", [column])
    op.create_table(
        "mail_failures",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("website_id", sa.String(length=24), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("session_id", sa.String(length=24), nullable=True),
        sa.Column("operator_id", sa.String(length=24), nullable=True),
        _fk("mail_failures", "website_id", "websites"),
        _fk("mail_failures", "session_id", "sessions"),
        _fk("mail_failures", "operator_id", "operators"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_failures")),
    )
    op.create_index(
        op.f("ix_mail_failures_website_id_address"), "mail_failures", ["website_id", "address"]
    )
    op.create_index(op.f("ix_mail_failures_session_id"), "mail_failures", ["session_id"])
    op.create_index(op.f("ix_mail_failures_operator_id"), "mail_failures", ["operator_id"])
    op.create_table(
        "mail_opt_outs",
        sa.Column("session_id", sa.String(length=24), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("mail_opt_outs", "session_id", "sessions"),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_mail_opt_outs")),
    )


def downgrade() -> None:
    op.drop_table("mail_opt_outs")
    op.drop_table("mail_failures")
    op.drop_table("reply_addresses")
    op.drop_table("notification_preferences")
