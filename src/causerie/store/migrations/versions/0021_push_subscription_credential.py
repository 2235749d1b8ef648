"""A push subscription is bound to the login or API token it was made with.

A browser's subscription used to outlive the login that made it: signing out dropped it (the
inbox asked to), but a login that expired, or ended when the password changed elsewhere, left
its browser receiving pushes. `login_id` and `token_id` cascade from their credential; pushes
are sent only while it lasts (docs/notifications.md, "Push").

Existing data: subscriptions stored before this revision have neither and stay until the
browser unsubscribes, its push service drops it, or the operator's account goes.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_BOUND = (("login_id", "logins"), ("token_id", "api_tokens"))


def upgrade() -> None:
    with op.batch_alter_table("push_subscriptions", schema=None) as batch_op:
        for column, table in _BOUND:
            batch_op.add_column(sa.Column(column, sa.String(length=24), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f(f"fk_push_subscriptions_{column}_{table}"),
                table,
                [column],
                ["id"],
                ondelete="CASCADE",
            )
            batch_op.create_index(batch_op.f(f"ix_push_subscriptions_{column}"), [column])


def downgrade() -> None:
    with op.batch_alter_table("push_subscriptions", schema=None) as batch_op:
        for column, table in reversed(_BOUND):
            batch_op.drop_index(batch_op.f(f"ix_push_subscriptions_{column}"))
            batch_op.drop_constraint(
                batch_op.f(f"fk_push_subscriptions_{column}_{table}"), type_="foreignkey"
            )
            batch_op.drop_column(column)
