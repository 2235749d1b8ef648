"""Reports' histograms per UTC month as well (docs/reports.md "Speed").

`report_month_buckets` holds the same bucket rows as `report_day_buckets`, summed per UTC month
(`month`: its first midnight), so a year's agents, labels, teams and totals read about 12 rows
per bucket instead of 365. Filled from the existing days in one statement. `report_day_histograms`
holds the website's day histograms as one JSON object per day and metric (bucket -> count), so a
year's per-day percentiles parse 730 rows; filled from the days' bucket rows. On SQLite the three
histogram tables are WITHOUT ROWID (the hours' and days' are copied into new ones): a range of
buckets with their counts is then read in one walk of the key, not a table lookup per row. A
downgrade drops the months and leaves the other two as they are (the same columns and key).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# The UTC month of a stored day: SQLite keeps UTC datetimes as text, PostgreSQL as timestamptz.
_MONTH = {
    "sqlite": "substr(day, 1, 7) || '-01 00:00:00.000000'",
    "postgresql": "date_trunc('month', day AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
}


_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# A day's buckets as one JSON object, bucket -> count.
_OBJECT = {
    "sqlite": "json_group_object(bucket, n)",
    "postgresql": "jsonb_object_agg(CAST(bucket AS TEXT), n)",
}


def _bucket_table(table: str, at: str, name: str | None = None) -> None:
    """A histogram table; on SQLite WITHOUT ROWID: its rows live in the primary key's b-tree, so
    reading a range of buckets with their counts is one walk, not a lookup per row."""
    op.create_table(
        name or table,
        sa.Column("website_id", sa.String(length=24), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column(at, sa.DateTime(timezone=True), nullable=False),
        sa.Column("key", sa.String(length=24), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["website_id"],
            ["websites.id"],
            name=op.f(f"fk_{table}_website_id_websites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "website_id", "dimension", at, "key", "metric", "bucket", name=op.f(f"pk_{table}")
        ),
        sqlite_with_rowid=False,
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":  # the hours' and days' histograms become WITHOUT ROWID tables
        for table, at in (("report_hour_buckets", "hour"), ("report_day_buckets", "day")):
            _bucket_table(table, at, f"{table}_0019")
            op.execute(
                f"INSERT INTO {table}_0019 SELECT website_id, dimension, {at}, key, metric,"  # noqa: S608
                f" bucket, n FROM {table}"
            )
            op.drop_table(table)
            op.rename_table(f"{table}_0019", table)
    name = "report_month_buckets"
    _bucket_table(name, "month")
    month = _MONTH[dialect]
    op.execute(
        f"INSERT INTO {name} (website_id, dimension, month, key, metric, bucket, n)"  # noqa: S608
        f" SELECT website_id, dimension, {month}, key, metric, bucket, SUM(n)"
        f" FROM report_day_buckets GROUP BY website_id, dimension, {month}, key, metric, bucket"
        " HAVING SUM(n) <> 0"
    )

    op.create_table(
        "report_day_histograms",
        sa.Column("website_id", sa.String(length=24), nullable=False),
        sa.Column("day", sa.DateTime(timezone=True), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("hist", _JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["website_id"],
            ["websites.id"],
            name=op.f("fk_report_day_histograms_website_id_websites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "website_id", "day", "metric", name=op.f("pk_report_day_histograms")
        ),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO report_day_histograms (website_id, day, metric, hist)"  # noqa: S608
        f" SELECT website_id, day, metric, {_OBJECT[dialect]} FROM report_day_buckets"
        " WHERE dimension = 'website' AND key = '' AND n <> 0 GROUP BY website_id, day, metric"
    )


def downgrade() -> None:
    op.drop_table("report_day_histograms")
    op.drop_table("report_month_buckets")
