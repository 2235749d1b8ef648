"""Local days kept per offset off the request path (docs/reports.md "Speed").

`report_days` and `report_day_histograms` get `pending`, set by every change to the row (true
for the existing rows: the first pass keeps their local days) and cleared by the background
keeping, with a partial index each; `report_zones` holds the zones a website's reports were asked
in. A downgrade drops them.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_INDEXES = (
    ("report_days", "ix_report_days_pending", "pending AND dimension = 'website'"),
    ("report_day_histograms", "ix_report_day_histograms_pending", "pending"),
)


def upgrade() -> None:
    for table, name, where in _INDEXES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("pending", sa.Boolean(), nullable=False, server_default=sa.true())
            )
        op.create_index(
            name,
            table,
            ["website_id"],
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )
    op.create_table(
        "report_zones",
        sa.Column("website_id", sa.String(length=24), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["website_id"],
            ["websites.id"],
            name=op.f("fk_report_zones_website_id_websites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("website_id", "zone", name=op.f("pk_report_zones")),
    )


def downgrade() -> None:
    op.drop_table("report_zones")
    for table, name, _ in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("pending")
