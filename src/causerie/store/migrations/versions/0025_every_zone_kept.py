"""Every zone's local days kept off the request path (docs/reports.md "Speed").

The local days are kept at every whole-hour offset (domain/report_windows.py `CLASSES`) rather
than in the zones a website's reports were asked in: `report_zones` goes, the days kept at an
offset off the hour go (a zone at UTC+5:30 now reads the days of UTC+6, which are the same), and
the website's days are marked `pending` so that the background keeping
computes them in every zone. A downgrade brings back an empty `report_zones`.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("report_zones")
    op.execute("DELETE FROM report_offset_days WHERE utc_offset % 3600 <> 0")
    # Days older than the two years kept are cleared by the first pass without being computed.
    op.execute("UPDATE report_days SET pending = true WHERE dimension = 'website' AND key = ''")
    op.execute("UPDATE report_day_histograms SET pending = true")


def downgrade() -> None:
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
