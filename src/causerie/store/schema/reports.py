"""Reports (docs/reports.md): hourly, daily and monthly rollups and histograms, aggregates only
(P3), and what reports keep of each conversation."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    text,
    true,
)

from causerie.store.schema.base import ID, metadata
from causerie.store.types import Json, UTCDateTime

UNRANKED = text("median IS NULL")
# The website's days changed since the local days they lie in were last kept (`pending`): the
# background keeping reads them (actions/reports.py `do_keep_days`).
PENDING_DAYS = text("pending AND dimension = 'website'")
PENDING = text("pending")

_REPORT_COUNTS = (
    "chatbox_loads",
    "sessions_created",
    "conversations_started",
    "conversations_resolved",
    "messages_visitor",
    "messages_operator",
    "ratings_count",
    "ratings_sum",
)

# Reports (docs/reports.md): hourly rollups, aggregates only (P3). One row per UTC hour of a
# website, or of one agent, label or team on it (`dimension`, `key`). No visitor in them, so they
# outlive every conversation they count. No foreign key on `key`: an agent's history stays.
report_hours = Table(
    "report_hours",
    metadata,
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), primary_key=True),
    Column("dimension", String(16), primary_key=True),
    Column("key", String(ID), primary_key=True),
    Column("hour", UTCDateTime, primary_key=True),
    *(Column(name, Integer, nullable=False, default=0) for name in _REPORT_COUNTS),
    Index(None, "website_id", "dimension", "hour"),  # all agents' hours at a period's edges
)

# The same counts per UTC day (`day`: its midnight), added to with each hour: a period's whole UTC
# days are read from here, its partial edges from `report_hours` (docs/reports.md "Speed"). The
# day (hour) comes before the key so that all agents of a period are one range.
report_days = Table(
    "report_days",
    metadata,
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), primary_key=True),
    Column("dimension", String(16), primary_key=True),
    Column("day", UTCDateTime, primary_key=True),
    Column("key", String(ID), primary_key=True),
    *(Column(name, Integer, nullable=False, default=0) for name in _REPORT_COUNTS),
    # The website's rows: conversations started in each of the day's 24 UTC hours (a JSON array),
    # added to with the counts, so that the week's heatmap reads days, not hours.
    Column("started_hours", Json),
    # Raised by every change to the row; a rebuild starts above the highest before. The local
    # days kept per offset (`report_offset_days`) are valid while their days' versions hold.
    Column("version", BigInteger, nullable=False, server_default="1"),
    # Set by every change to the row, cleared by `do_keep_days` once the local days kept per
    # offset that lie in this day are kept again (the version it saw still holds).
    Column("pending", Boolean, nullable=False, server_default=true()),
    Index("ix_report_days_pending", "website_id", sqlite_where=PENDING_DAYS),
)

# Histograms of durations in seconds, one row per bucket (domain/reports.py `bucket`) and
# `metric` (`first_response`, `resolution`), per UTC hour and per UTC day as the counts above.
report_hour_buckets = Table(
    "report_hour_buckets",
    metadata,
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), primary_key=True),
    Column("dimension", String(16), primary_key=True),
    Column("hour", UTCDateTime, primary_key=True),
    Column("key", String(ID), primary_key=True),
    Column("metric", String(16), primary_key=True),
    Column("bucket", Integer, primary_key=True, autoincrement=False),
    Column("n", Integer, nullable=False),
    sqlite_with_rowid=False,  # rows in the key's b-tree: a range is one walk
)
report_day_buckets = Table(
    "report_day_buckets",
    metadata,
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), primary_key=True),
    Column("dimension", String(16), primary_key=True),
    Column("day", UTCDateTime, primary_key=True),
    Column("key", String(ID), primary_key=True),
    Column("metric", String(16), primary_key=True),
    Column("bucket", Integer, primary_key=True, autoincrement=False),
    Column("n", Integer, nullable=False),
    sqlite_with_rowid=False,  # rows in the key's b-tree: a range is one walk
)

# The same histograms per UTC month (`month`: its first midnight), added to with each hour: a
# period's agents, labels, teams and totals read its whole months here, so a year is ~12 rows per
# bucket instead of ~365 (docs/reports.md "Speed").
report_month_buckets = Table(
    "report_month_buckets",
    metadata,
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), primary_key=True),
    Column("dimension", String(16), primary_key=True),
    Column("month", UTCDateTime, primary_key=True),
    Column("key", String(ID), primary_key=True),
    Column("metric", String(16), primary_key=True),
    Column("bucket", Integer, primary_key=True, autoincrement=False),
    Column("n", Integer, nullable=False),
    sqlite_with_rowid=False,  # rows in the key's b-tree: a range is one walk
)

# The website's histograms once more per UTC day, each as one JSON object (bucket -> count),
# added to in SQL (`json_set`, `jsonb ||`): a year's per-day percentiles parse 730 rows instead
# of joining ~55,000 bucket rows; with its median and 90th percentile, ranked by the database in
# the transaction that changes the object, read as they are for UTC days (docs/reports.md "Speed").
report_day_histograms = Table(
    "report_day_histograms",
    metadata,
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), primary_key=True),
    Column("day", UTCDateTime, primary_key=True),
    Column("metric", String(16), primary_key=True),
    Column("hist", Json, nullable=False),
    Column("median", Integer),
    Column("p90", Integer),
    Column("version", BigInteger, nullable=False, server_default="1"),  # as `report_days`'
    Column("pending", Boolean, nullable=False, server_default=true()),  # as `report_days`'
    # The days to rank (`rank_days`): only those changed since, so the index stays small.
    Index("ix_report_day_histograms_unranked", "website_id", sqlite_where=UNRANKED),
    Index("ix_report_day_histograms_pending", "website_id", sqlite_where=PENDING),
    sqlite_with_rowid=False,
)

# The website's local days at one UTC offset throughout (`day`: days since 1970-01-01, local;
# `utc_offset` in seconds), their counts and percentiles as a report computed them, with the
# versions of the UTC days they were read from (`stamp`): a report reads a year in any zone from
# ~365 of them when their stamps still hold (domain/report_days.py, docs/reports.md "Speed").
# The offsets are whole hours (`CLASSES`, domain/report_windows.py), each website's days kept at
# every one off the request path; dropped by a rebuild and with the website.
report_offset_days = Table(
    "report_offset_days",
    metadata,
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), primary_key=True),
    Column("utc_offset", Integer, primary_key=True, autoincrement=False),
    Column("day", Integer, primary_key=True, autoincrement=False),
    Column("stamp", String(160), nullable=False),  # 2 x 3 versions
    *(Column(name, Integer, nullable=False) for name in _REPORT_COUNTS),
    *(
        Column(f"{metric}_{rank}", Integer)
        for metric in ("first_response", "resolution")
        for rank in ("median", "p90")
    ),
    sqlite_with_rowid=False,
)

# What reports need to know of each conversation (its start, first answer, resolution); goes
# with the conversation (cascade), as its messages do.
report_conversations = Table(
    "report_conversations",
    metadata,
    Column("conversation_id", ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    Column("website_id", ForeignKey("websites.id", ondelete="CASCADE"), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("visitor_started", Boolean, nullable=False),
    Column("first_response_at", UTCDateTime),
    Column("first_responder_id", String(ID)),
    Column("resolved_at", UTCDateTime),
    Column("resolved_by", String(ID)),
    Index(None, "website_id"),
)
