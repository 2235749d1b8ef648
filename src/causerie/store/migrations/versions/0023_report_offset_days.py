"""Local days kept per UTC offset (docs/reports.md "Speed"; domain/report_days.py).

`report_days` and `report_day_histograms` get `version`, raised by every change to the row (1 for
the existing rows); `report_offset_days` keeps a website's local days at one UTC offset
throughout, their counts and percentiles, with the versions of the UTC days they were read from.
It starts empty: reports fill it as they are asked for. A downgrade drops the table and columns.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

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
    for table in ("report_days", "report_day_histograms"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("version", sa.BigInteger(), nullable=False, server_default="1")
            )
    op.create_table(
        "report_offset_days",
        sa.Column("website_id", sa.String(length=24), nullable=False),
        sa.Column("utc_offset", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stamp", sa.String(length=160), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS),
        *(
            sa.Column(f"{metric}_{rank}", sa.Integer(), nullable=True)
            for metric in ("first_response", "resolution")
            for rank in ("median", "p90")
        ),
        sa.ForeignKeyConstraint(
            ["website_id"],
            ["websites.id"],
            name=op.f("fk_report_offset_days_website_id_websites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "website_id", "utc_offset", "day", name=op.f("pk_report_offset_days")
        ),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("report_offset_days")
    for table in ("report_day_histograms", "report_days"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
