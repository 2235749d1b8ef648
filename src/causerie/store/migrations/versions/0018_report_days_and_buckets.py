"""Reports' histograms as integer rows, and a daily layer (docs/reports.md "Speed").

`report_hours` loses its JSON histograms (`first_response`, `resolution`) for
`report_hour_buckets`, one row per hour, metric and bucket; `report_days` and
`report_day_buckets` hold the same per UTC day. Existing rows are carried over: each hour's JSON
histogram becomes its bucket rows, and the days are the sums of their hours.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0018"
down_revision = "0017"
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
_METRICS = ("first_response", "resolution")
_KEY = ("website_id", "dimension", "key")


def _keyed(name: str, at: str, *extra: sa.Column[Any]) -> list[Any]:
    return [
        sa.Column("website_id", sa.String(length=24), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column(at, sa.DateTime(timezone=True), nullable=False),
        sa.Column("key", sa.String(length=24), nullable=False),
        *extra,
        sa.ForeignKeyConstraint(
            ["website_id"],
            ["websites.id"],
            name=op.f(f"fk_{name}_website_id_websites"),
            ondelete="CASCADE",
        ),
    ]


def _bucket_table(name: str, at: str) -> None:
    op.create_table(
        name,
        *_keyed(
            name,
            at,
            sa.Column("metric", sa.String(length=16), nullable=False),
            sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("n", sa.Integer(), nullable=False),
        ),
        sa.PrimaryKeyConstraint(
            "website_id", "dimension", at, "key", "metric", "bucket", name=op.f(f"pk_{name}")
        ),
    )


def upgrade() -> None:
    op.create_table(
        "report_days",
        *_keyed(
            "report_days", "day", *(sa.Column(n, sa.Integer(), nullable=False) for n in _COUNTS)
        ),
        sa.PrimaryKeyConstraint(
            "website_id", "dimension", "day", "key", name=op.f("pk_report_days")
        ),
    )
    _bucket_table("report_hour_buckets", "hour")
    _bucket_table("report_day_buckets", "day")
    _carry_over()
    with op.batch_alter_table("report_hours", schema=None) as batch_op:
        batch_op.drop_column("resolution")
        batch_op.drop_column("first_response")
        batch_op.create_index(
            batch_op.f("ix_report_hours_website_id_dimension_hour"),
            ["website_id", "dimension", "hour"],
        )


def _midnight(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def _carry_over() -> None:
    """Each hour's JSON histograms become bucket rows; days are the sums of their hours."""
    conn = op.get_bind()
    at = sa.column("hour", sa.DateTime(timezone=True))
    hours = sa.table(
        "report_hours",
        *(sa.column(n) for n in (*_KEY, *_COUNTS)),
        at,
        *(sa.column(m, _JSON) for m in _METRICS),
    )
    days: dict[tuple[Any, ...], Counter[str]] = {}
    hour_buckets: list[dict[str, Any]] = []
    day_buckets: Counter[tuple[Any, ...]] = Counter()
    for row in conn.execute(sa.select(hours)).mappings():
        key = (row["website_id"], row["dimension"], row["key"])
        day = _midnight(row["hour"])
        days.setdefault((*key, day), Counter()).update({n: row[n] for n in _COUNTS})
        for metric in _METRICS:
            for bucket, n in (row[metric] or {}).items():
                if not n:
                    continue
                hour_buckets.append(
                    dict(zip(_KEY, key, strict=True))
                    | {"hour": row["hour"], "metric": metric, "bucket": int(bucket), "n": n}
                )
                day_buckets[(*key, day, metric, int(bucket))] += n
    columns = (*_KEY, "day", "metric", "bucket", "n")
    _insert("report_hour_buckets", hour_buckets)
    _insert(
        "report_days",
        [
            dict(zip((*_KEY, "day"), key, strict=True)) | {n: counts[n] for n in _COUNTS}
            for key, counts in days.items()
        ],
    )
    _insert(
        "report_day_buckets",
        [dict(zip(columns, (*key, n), strict=True)) for key, n in day_buckets.items()],
    )


def _insert(name: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table = sa.table(name, *(sa.column(c) for c in rows[0]))
    for start in range(0, len(rows), 500):
        op.get_bind().execute(table.insert(), rows[start : start + 500])


def downgrade() -> None:
    with op.batch_alter_table("report_hours", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_hours_website_id_dimension_hour"))
        batch_op.add_column(sa.Column("first_response", _JSON, nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("resolution", _JSON, nullable=False, server_default="{}"))
    # The histograms go back into their hours' JSON only through `causerie reports rebuild`.
    op.drop_table("report_day_buckets")
    op.drop_table("report_hour_buckets")
    op.drop_table("report_days")
