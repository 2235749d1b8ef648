"""An invitation is bound to one website and one role, granted when its link is accepted.

Invitations used to grant the membership at once, and their link set the password of whoever
the address belonged to: a link kept by the admin of one website granted every website that
invited the same address later (docs/security.md). Now `account_links` rows of purpose
`invite` carry their `website_id` and `role`, and the membership is created on acceptance.

Existing data: each pending person's link (they have no password yet) is bound to their first
membership, the one the link was created with; every membership of a person without a password
becomes that pending invitation or goes (those later inviters got no link: they invite again),
and the conversations assigned to them become unassigned.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("website_id", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("role", sa.String(length=16), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_account_links_website_id_websites"),
            "websites",
            ["website_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(
            batch_op.f("ix_account_links_website_id"), ["website_id"], unique=False
        )
    op.execute(
        "UPDATE account_links SET"
        " website_id = (SELECT m.website_id FROM memberships m"
        " WHERE m.operator_id = account_links.operator_id"
        " ORDER BY m.created_at, m.website_id LIMIT 1),"
        " role = (SELECT m.role FROM memberships m"
        " WHERE m.operator_id = account_links.operator_id"
        " ORDER BY m.created_at, m.website_id LIMIT 1)"
        " WHERE purpose = 'invite'"
        " AND operator_id IN (SELECT id FROM operators WHERE password_hash IS NULL)"
    )
    op.execute("DELETE FROM account_links WHERE purpose = 'invite' AND website_id IS NULL")
    op.execute(
        "UPDATE conversations SET assignee_id = NULL"
        " WHERE assignee_id IN (SELECT id FROM operators WHERE password_hash IS NULL)"
    )
    op.execute(
        "DELETE FROM memberships"
        " WHERE operator_id IN (SELECT id FROM operators WHERE password_hash IS NULL)"
    )


def downgrade() -> None:
    op.execute(
        "INSERT INTO memberships (website_id, operator_id, role, created_at)"
        " SELECT website_id, operator_id, role, created_at FROM account_links"
        " WHERE purpose = 'invite' AND website_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM"
        " memberships m WHERE m.website_id = account_links.website_id"
        " AND m.operator_id = account_links.operator_id)"
    )
    with op.batch_alter_table("account_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_links_website_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_account_links_website_id_websites"), type_="foreignkey"
        )
        batch_op.drop_column("role")
        batch_op.drop_column("website_id")
