"""The website's day histograms keep their median and 90th percentile (docs/reports.md "Speed").

`report_day_histograms` gets `median` and `p90`, ranked by the database from the day's JSON
object in the transaction that changes it, so a report of UTC days reads two integers per day
and metric instead of parsing and ranking every day's histogram. Filled here from the existing
objects in one statement. A downgrade drops the two columns.

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

# Nearest rank over the buckets above 0, as store/repositories/report_sql.py `RANK_DAYS`.
_RANKED = (
    "SELECT MIN(CASE WHEN c * 100 >= 50 * t THEN b END),"
    " MIN(CASE WHEN c * 100 >= 90 * t THEN b END)"
    " FROM (SELECT b, SUM(n) OVER (ORDER BY b) AS c, SUM(n) OVER () AS t FROM ({0}) AS e"
    " WHERE n > 0) AS s"
)
_ENTRIES = {
    "sqlite": "SELECT CAST(key AS INTEGER) AS b, value AS n"
    " FROM json_each(report_day_histograms.hist)",
    "postgresql": "SELECT CAST(key AS INTEGER) AS b, CAST(value AS INTEGER) AS n"
    " FROM jsonb_each_text(report_day_histograms.hist)",
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("report_day_histograms") as batch:
        batch.add_column(sa.Column("median", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("p90", sa.Integer(), nullable=True))
    ranked = _RANKED.format(_ENTRIES[dialect])
    op.execute(f"UPDATE report_day_histograms SET (median, p90) = ({ranked})")  # noqa: S608


def downgrade() -> None:
    with op.batch_alter_table("report_day_histograms") as batch:
        batch.drop_column("p90")
        batch.drop_column("median")
