# ruff: noqa: S608 (the statements are made of constants)
"""The website's days keep their percentiles and their hours' starts (docs/reports.md "Speed").

`report_day_histograms` gets `median` and `p90`, ranked by the database from the day's JSON
object in the transaction that changes it, so a report of UTC days reads two integers per day
and metric instead of parsing and ranking every day's histogram. `report_days` gets
`started_hours` (the website's rows: conversations started in each UTC hour of the day, a JSON
array of 24), so the week's heatmap reads 365 days a year instead of 8,760 hours. Both filled here
from the existing rows, set-based. A downgrade drops the three columns.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0022"
down_revision = "0021"
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


# Hour `i` of a stored UTC day, and a JSON array of values.
_HOUR = {
    "sqlite": "substr(report_days.day, 1, 11) || '{0:02d}:00:00.000000'",
    "postgresql": "report_days.day + INTERVAL '{0} hours'",
}
_ARRAY = {"sqlite": "json_array", "postgresql": "jsonb_build_array"}
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("report_day_histograms") as batch:
        batch.add_column(sa.Column("median", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("p90", sa.Integer(), nullable=True))
    ranked = _RANKED.format(_ENTRIES[dialect])
    op.execute(f"UPDATE report_day_histograms SET (median, p90) = ({ranked})")
    where = sa.text("median IS NULL")
    op.create_index(
        "ix_report_day_histograms_unranked",
        "report_day_histograms",
        ["website_id"],
        sqlite_where=where,
        postgresql_where=where,
    )
    with op.batch_alter_table("report_days") as batch:
        batch.add_column(sa.Column("started_hours", _JSON, nullable=True))
    hours = ", ".join(
        "coalesce((SELECT conversations_started FROM report_hours AS h"
        " WHERE h.website_id = report_days.website_id AND h.dimension = 'website'"
        f" AND h.key = '' AND h.hour = {_HOUR[dialect].format(i)}), 0)"
        for i in range(24)
    )
    op.execute(
        f"UPDATE report_days SET started_hours = {_ARRAY[dialect]}({hours})"
        " WHERE dimension = 'website' AND key = '' AND conversations_started > 0"
    )


def downgrade() -> None:
    op.drop_index("ix_report_day_histograms_unranked", table_name="report_day_histograms")
    with op.batch_alter_table("report_days") as batch:
        batch.drop_column("started_hours")
    with op.batch_alter_table("report_day_histograms") as batch:
        batch.drop_column("p90")
        batch.drop_column("median")
