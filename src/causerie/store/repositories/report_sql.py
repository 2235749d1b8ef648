# ruff: noqa: S608 (the summary's SQL text is made of constants; every value is bound)
"""The SQL of a period's report (`ReportReads.summary`, docs/reports.md "Speed").

The database sums the counts per local day and per agent, and gathers the histograms per local
day and per agent; Python ranks them (percentiles), except the website's UTC days, which the
database ranks as they change (`RANK_DAYS`). The local day of an hour is (its last second + the
zone's offset then) // 86400, the offsets coming from `Period.offsets()`. When the zone is UTC
over the whole period, a local day is a UTC day: the daily layer has it. Per agent, the period's
whole UTC days come from the daily layer and its edges from hours. These statements are SQL
text: their arithmetic on epochs has no portable form in SQLAlchemy Core.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from sqlalchemy import bindparam, text

from causerie.domain.reports import COUNTS, Dimension
from causerie.store.types import UTCDateTime

EPOCH = {
    "sqlite": "CAST(strftime('%s', {0}) AS INTEGER)",
    "postgresql": "CAST(EXTRACT(EPOCH FROM {0}) AS BIGINT)",
}
_CONCAT = {
    "sqlite": "group_concat(bucket || ' ' || n, ' ')",
    "postgresql": "string_agg(bucket || ' ' || n, ' ')",
}
SUMS = ", ".join(f"SUM({name}) AS {name}" for name in COUNTS)
COUNT_COLUMNS = ", ".join(COUNTS)
WEBSITE = "website_id = :w AND dimension = 'website'"
_HIST_TEXT = {"sqlite": "hist", "postgresql": "CAST(hist AS TEXT)"}
_STARTED_TEXT = {"sqlite": "started_hours", "postgresql": "CAST(started_hours AS TEXT)"}
_HOURS_IN = "hour >= :start AND hour < :end"

# The median and 90th percentile of each day's histogram (nearest rank, as `percentiles`: the
# smallest bucket whose running count reaches 50% (90%) of the total, buckets at 0 or below left
# out), written into the day's row; the statement's WHERE picks the rows. A change to a day sets
# them to NULL (to rank: `UNRANKED`, served by a partial index); `rank_days` ranks those every few
# seconds, and a report ranks in Python any it reads (a NULL median with entries).
_RANKED = (
    "SELECT MIN(CASE WHEN c * 100 >= 50 * t THEN b END),"
    " MIN(CASE WHEN c * 100 >= 90 * t THEN b END)"
    " FROM (SELECT b, SUM(n) OVER (ORDER BY b) AS c, SUM(n) OVER () AS t FROM ({0}) AS e"
    " WHERE n > 0) AS s"
)
_ENTRIES = {  # a day's buckets (b) and counts (n), from its JSON object
    "sqlite": "SELECT CAST(key AS INTEGER) AS b, value AS n"
    " FROM json_each(report_day_histograms.hist)",
    "postgresql": "SELECT CAST(key AS INTEGER) AS b, CAST(value AS INTEGER) AS n"
    " FROM jsonb_each_text(report_day_histograms.hist)",
}
RANK_DAYS = {
    dialect: f"UPDATE report_day_histograms SET (median, p90) = ({_RANKED.format(entries)})"
    for dialect, entries in _ENTRIES.items()
}
# The days to rank: changed since (NULL), with an entry above 0 (a day whose entries all went
# back to 0 ranks as NULL: it stays in the partial index and is not written again). PostgreSQL
# skips the rows a change holds (they are ranked at the next pass), so ranking never waits on
# a change, nor a change on it in a deadlock.
UNRANKED = {
    dialect: "WHERE median IS NULL"
    f" AND EXISTS (SELECT 1 FROM ({entries}) AS e WHERE n > 0)"
    + (
        ""
        if dialect == "sqlite"
        else " AND (website_id, day, metric) IN (SELECT website_id, day, metric"
        " FROM report_day_histograms WHERE median IS NULL FOR UPDATE SKIP LOCKED)"
    )
    for dialect, entries in _ENTRIES.items()
}
# Whether any day is left to rank, by the UPDATE's own test (on the partial index's few rows):
# read first, so that a pass with nothing to rank opens no write transaction.
HAS_UNRANKED = {
    dialect: "SELECT 1 FROM report_day_histograms WHERE median IS NULL"
    f" AND EXISTS (SELECT 1 FROM ({entries}) AS e WHERE n > 0) LIMIT 1"
    for dialect, entries in _ENTRIES.items()
}
# PostgreSQL, several nodes: one ranks at a time, held for its transaction; the others find it
# taken and return at once instead of each running the UPDATE (migrate.py's lock is 7428315).
RANKING_LOCK = "SELECT pg_try_advisory_xact_lock(7428316)"

# A period's parts by layer (`_spans`): the hours before its first whole UTC day and after its
# last, the whole days before its first month and after its last, those months, and the days
# of a month at an end that lie outside the period (taken away: sign -1); separate ranges (not
# ORs) so that each is one range of the index.
_PARTS = (
    ("report_hour_buckets", "hour", "hour >= :start AND hour < :ds", 1),
    ("report_hour_buckets", "hour", "hour >= :de AND hour < :end", 1),
    ("report_day_buckets", "day", "day >= :ds AND day < :ms", 1),
    ("report_day_buckets", "day", "day >= :me AND day < :de", 1),
    ("report_month_buckets", "month", "month >= :ms AND month < :me", 1),
    ("report_day_buckets", "day", "day >= :hs AND day < :ds", -1),
    ("report_day_buckets", "day", "day >= :de AND day < :te", -1),
)
_COUNT_PARTS = (
    ("report_hours", "hour >= :start AND hour < :ds"),
    ("report_hours", "hour >= :de AND hour < :end"),
    ("report_days", "day >= :ds AND day < :de"),
)


def _offset_case(count: int) -> str:
    whens = " ".join(f"WHEN e < :u{n} THEN :o{n}" for n in range(count))
    return f"CASE {whens} ELSE 0 END"


def _local(dialect: str, offsets: int, table: str, columns: str) -> str:
    """Rows of the website's hours in the period with their local day and local hour."""
    e = f"({EPOCH[dialect].format('hour')} + 3599)"
    shift = _offset_case(offsets)
    return (
        f"SELECT {columns}, (e + {shift}) / 86400 AS day, (e - 1799 + {shift}) / 3600 AS lh"
        f" FROM (SELECT {columns}, {e} AS e FROM {table}"
        f" WHERE {WEBSITE} AND key = '' AND {_HOURS_IN}) AS r"
    )


def _utc(dialect: str, table: str, columns: str) -> str:
    """Rows of the website's UTC days in the period, with their day number."""
    day = EPOCH[dialect].format("day")
    return (
        f"SELECT {columns}, {day} / 86400 AS day FROM {table}"
        f" WHERE {WEBSITE} AND key = '' AND day >= :start AND day < :end"
    )


BREAKDOWNS = (Dimension.LABEL, Dimension.TEAM)


def _per_key(dimension: str) -> str:
    """Counts per key of a dimension over the period: whole UTC days, then the edges' hours."""
    where = f"website_id = :w AND dimension = '{dimension}'"
    parts = " UNION ALL ".join(
        f"SELECT key, {COUNT_COLUMNS} FROM {table} WHERE {where} AND {range_}"
        for table, range_ in _COUNT_PARTS
    )
    return f"SELECT key, {SUMS} FROM ({parts}) AS a GROUP BY key"


def _per_key_buckets(dialect: str, dimension: str) -> str:
    """Each key's histograms over the period (months, days, the edges' hours; the days outside
    the months read taken away), as (key, metric, sign, "bucket n ..."). On PostgreSQL summed
    per bucket by the database and joined per key and metric (one row each, which Python only
    ranks: fewer rows to send and parse); on SQLite joined per row of a layer in the index's
    order, merged by Python (summing there sorts every bucket row, which cost more than it
    saved: docs/performance.md, "Reports: ranks kept with the days")."""
    where = f"website_id = :w AND dimension = '{dimension}'"
    if dialect == "sqlite":
        return " UNION ALL ".join(
            f"SELECT key, metric, {sign}, {_CONCAT[dialect]} FROM {table}"
            f" WHERE {where} AND {range_} GROUP BY {at}, key, metric"
            for table, at, range_, sign in _PARTS
        )
    parts = " UNION ALL ".join(
        f"SELECT key, metric, bucket, {'n' if sign > 0 else '-n'} AS n FROM {table}"
        f" WHERE {where} AND {range_}"
        for table, _, range_, sign in _PARTS
    )
    summed = (
        f"SELECT key, metric, bucket, SUM(n) AS n FROM ({parts}) AS p GROUP BY key, metric, bucket"
    )
    return f"SELECT key, metric, 1, {_CONCAT[dialect]} FROM ({summed}) AS s GROUP BY key, metric"


@lru_cache(maxsize=64)
def summary_sql(
    dialect: str,
    offsets: int,
    full: bool,
    utc_days: bool,
    by: str | None = None,
    planned: bool = False,
) -> dict[str, Any]:
    """The statements of `SqlReports.summary`; `by`: a constant of `BREAKDOWNS`, never input;
    `planned`: the website's local days are read by a `DayPlan`."""
    statements: dict[str, Any] = {"total_histograms": _per_key_buckets(dialect, "website")}
    if not full:
        statements["totals"] = _per_key("website")
    elif planned:  # local days from UTC days and the hours that move (`plan_days`)
        concat, website = _CONCAT[dialect], f"{WEBSITE} AND key = ''"
        day, hour = EPOCH[dialect].format("day"), EPOCH[dialect].format("hour")
        statements["plan_day_counts"] = (
            f"SELECT {day}, {COUNT_COLUMNS} FROM report_days"
            f" WHERE {website} AND day >= :pd0 AND day < :pd1"
        )
        statements["plan_hour_counts"] = (
            f"SELECT {hour}, {COUNT_COLUMNS} FROM report_hours WHERE {website} AND hour IN :hours"
        )
        statements["plan_days"] = (
            f"SELECT {day}, metric, median, p90, {_HIST_TEXT[dialect]} FROM report_day_histograms"
            " WHERE website_id = :w AND day >= :pd0 AND day < :pd1"
        )
        statements["plan_hours"] = (
            f"SELECT {hour}, metric, {concat} FROM report_hour_buckets"
            f" WHERE {website} AND hour IN :hours GROUP BY hour, key, metric"
        )
    else:
        if utc_days:  # the UTC days' percentiles, ranked as the days changed
            counts = _utc(dialect, "report_days", COUNT_COLUMNS)
            statements["day_percentiles"] = (  # a day not ranked yet: its histogram
                f"SELECT {EPOCH[dialect].format('day')}, metric, median, p90,"
                f" CASE WHEN median IS NULL THEN {_HIST_TEXT[dialect]} END"
                " FROM report_day_histograms"
                " WHERE website_id = :w AND day >= :start AND day < :end"
            )
        else:
            # The website's histograms joined per hour as "bucket n bucket n ...", in the
            # index's order: Python assigns them to local days, merges and ranks them. Summing
            # bucket rows per local day in SQL sorts them all, and window functions cost several
            # times more (docs/performance.md).
            counts = _local(dialect, offsets, "report_hours", COUNT_COLUMNS)
            statements["day_histograms"] = (
                f"SELECT {EPOCH[dialect].format('hour')}, metric, {_CONCAT[dialect]}"
                f" FROM report_hour_buckets WHERE {WEBSITE} AND key = '' AND {_HOURS_IN}"
                " GROUP BY hour, key, metric"
            )
        statements["days"] = f"SELECT day, {SUMS} FROM ({counts}) AS b GROUP BY day"
    if full:
        statements["agent_histograms"] = _per_key_buckets(dialect, "operator")
        statements["agents"] = _per_key("operator")
        if by is not None:
            statements["breakdown_histograms"] = _per_key_buckets(dialect, by)
            statements["breakdown"] = _per_key(by)
        statements["week"] = (  # each UTC day touching the period, its 24 hours' starts
            f"SELECT {EPOCH[dialect].format('day')}, {_STARTED_TEXT[dialect]} FROM report_days"
            f" WHERE {WEBSITE} AND key = '' AND day >= :wd AND day < :end"
            " AND started_hours IS NOT NULL"
        )
    binds = [
        *(
            bindparam(name, type_=UTCDateTime())
            for name in ("start", "end", "ds", "de", "ms", "me", "hs", "te", "pd0", "pd1", "wd")
        ),
        bindparam("hours", type_=UTCDateTime(), expanding=True),
    ]
    return {
        name: text(sql).bindparams(*(b for b in binds if f":{b.key}" in sql))
        for name, sql in statements.items()
    }


@cache
def hour_figures_sql(dialect: str) -> dict[str, Any]:
    """The website's counts and histograms (joined per hour as "bucket n ...") of each UTC hour
    in [start, end) that has any, in the index's order: the hours every zone's local days are
    computed from (`days_to_keep`)."""
    epoch, website = EPOCH[dialect].format("hour"), f"{WEBSITE} AND key = '' AND {_HOURS_IN}"
    binds = (bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime()))
    return {
        "counts": text(
            f"SELECT {epoch}, {COUNT_COLUMNS} FROM report_hours WHERE {website}"
        ).bindparams(*binds),
        "histograms": text(
            f"SELECT {epoch}, metric, {_CONCAT[dialect]} FROM report_hour_buckets"
            f" WHERE {website} AND n != 0 GROUP BY hour, key, metric"
        ).bindparams(*binds),
    }


# A UTC day's conversations started per hour (`report_days.started_hours`, the website's rows
# only): a JSON array of 24 counts, added to in SQL as the counts are; the week's heatmap reads
# 365 of them a year instead of 8,760 hours.
ZEROS = "'[" + ",".join("0" * 24) + "]'"
ADD_STARTED = (  # PostgreSQL's; SQLite's is a statement of SQLAlchemy Core (report_writes.py)
    "UPDATE report_days SET started_hours = jsonb_set(coalesce(started_hours,"
    f" CAST({ZEROS} AS JSONB)), ARRAY[CAST(CAST(:h AS INTEGER) AS TEXT)],"
    " to_jsonb(coalesce(CAST(started_hours ->> CAST(:h AS INTEGER) AS INTEGER), 0) + :n))"
)
_HOUR_OF_DAY = {
    "sqlite": "substr(report_days.day, 1, 11) || '{0:02d}:00:00.000000'",
    "postgresql": "report_days.day + INTERVAL '{0} hours'",
}
_ARRAY = {"sqlite": "json_array", "postgresql": "jsonb_build_array"}


def fill_started(dialect: str) -> str:
    """Set the website's days' `started_hours` from their hours (a rebuild, a migration); the
    caller's WHERE picks the days."""
    hours = ", ".join(
        "coalesce((SELECT conversations_started FROM report_hours AS h"
        " WHERE h.website_id = report_days.website_id AND h.dimension = 'website'"
        f" AND h.key = '' AND h.hour = {_HOUR_OF_DAY[dialect].format(i)}), 0)"
        for i in range(24)
    )
    return (
        f"UPDATE report_days SET started_hours = {_ARRAY[dialect]}({hours})"
        f" WHERE {WEBSITE} AND key = '' AND conversations_started > 0"
    )
