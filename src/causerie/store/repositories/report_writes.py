# ruff: noqa: S608 (the rebuild's SQL text is made of constants; every value is bound)
"""Reports' writes (docs/reports.md "How the rollups are kept"): every change added in SQL.

Every change is added in SQL (`INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n`), to its
hour, its UTC day and month, counts and histogram buckets alike, so two transactions adding to one
row both count and nothing is read back into Python. The website's day histograms also keep their
median and 90th percentile, ranked by `rank_days` off the changes' path; a UTC day's rows raise
their `version` with every change (the local days kept per offset, report_offsets.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    Integer,
    Table,
    Text,
    bindparam,
    cast,
    delete,
    func,
    literal_column,
    text,
    true,
    update,
)

from causerie.domain.reports import (
    COUNTS,
    ConversationFacts,
    Dimension,
    HourRow,
    utc_day,
    utc_month,
)
from causerie.store.db import Prepared, dialect_insert
from causerie.store.repositories.report_rebuild import ReportRebuild
from causerie.store.repositories.report_sql import (
    ADD_STARTED,
    COUNT_COLUMNS,
    RANK_DAYS,
    RANKING_LOCK,
    SUMS,
    UNRANKED,
    WEBSITE,
    ZEROS,
    fill_started,
)
from causerie.store.schema.reports import (
    report_conversations,
    report_day_buckets,
    report_day_histograms,
    report_days,
    report_hour_buckets,
    report_hours,
    report_month_buckets,
)
from causerie.store.types import UTCDateTime


def _add_counts(insert: Any, table: Table, at: str) -> Prepared:
    stmt = insert(table).values(
        website_id=bindparam("w"),
        dimension=bindparam("d"),
        key=bindparam("k"),
        **{at: bindparam(at)},
        **{name: bindparam(f"n_{name}") for name in COUNTS},
    )
    added: dict[str, Any] = {name: table.c[name] + stmt.excluded[name] for name in COUNTS}
    if "version" in table.c:  # a day: what was kept of its local days is stale
        added["version"] = table.c.version + 1
        added["pending"] = true()  # for `do_keep_days`
    return Prepared(
        stmt.on_conflict_do_update(
            index_elements=["website_id", "dimension", "key", at], set_=added
        )
    )


def _add_bucket(insert: Any, table: Table, at: str) -> Prepared:
    stmt = insert(table).values(
        website_id=bindparam("w"),
        dimension=bindparam("d"),
        key=bindparam("k"),
        **{at: bindparam(at)},
        metric=bindparam("metric"),
        bucket=bindparam("bucket"),
        n=bindparam("n"),
    )
    return Prepared(
        stmt.on_conflict_do_update(
            index_elements=["website_id", "dimension", at, "key", "metric", "bucket"],
            set_={"n": table.c.n + stmt.excluded.n},
        )
    )


_FACT_COLUMNS = [column.name for column in report_conversations.c]


def _save_facts(insert: Any) -> Prepared:
    stmt = insert(report_conversations).values(**{name: bindparam(name) for name in _FACT_COLUMNS})
    return Prepared(
        stmt.on_conflict_do_update(
            index_elements=["conversation_id"],
            set_={name: stmt.excluded[name] for name in _FACT_COLUMNS[1:]},
        )
    )


@cache
def _adds(dialect: str) -> tuple[Prepared, Prepared, Prepared, Prepared, Prepared]:
    """(add to an hour's counts, to a day's, to an hour's buckets, to a day's, to a month's) on
    `dialect`, built at first use (the PostgreSQL dialect is imported only for a PostgreSQL
    store)."""
    insert = dialect_insert(dialect)
    return (
        _add_counts(insert, report_hours, "hour"),
        _add_counts(insert, report_days, "day"),
        _add_bucket(insert, report_hour_buckets, "hour"),
        _add_bucket(insert, report_day_buckets, "day"),
        _add_bucket(insert, report_month_buckets, "month"),
    )


@cache
def _add_to_day_histogram(dialect: str) -> Prepared:
    """Add `n` to bucket `b` of the website's day histogram (one JSON object per day and metric),
    in the database: `json_set` on SQLite, `jsonb ||` on PostgreSQL; nothing is read back."""
    t = report_day_histograms
    stmt = dialect_insert(dialect)(t)
    b, n = cast(bindparam("b"), Text), cast(bindparam("n"), Integer)
    first: Any
    added: Any
    if dialect == "sqlite":
        path: Any = bindparam("p")  # '$."640"'
        first = func.json_object(b, n)
        kept = func.coalesce(func.json_extract(t.c.hist, path), 0)
        added = func.json_set(t.c.hist, path, kept + n)
    else:
        first = func.jsonb_build_object(b, n)
        kept = func.coalesce(cast(t.c.hist.op("->>")(b), Integer), 0)
        added = t.c.hist.op("||")(func.jsonb_build_object(b, kept + n))
    stmt = stmt.values(website_id=bindparam("w"), day=bindparam("day"), metric=bindparam("metric"))
    stmt = stmt.values(hist=first)
    # The day's ranks are left to `rank_days` (NULL: to rank), off the change's own path.
    return Prepared(
        stmt.on_conflict_do_update(
            index_elements=["website_id", "day", "metric"],
            set_={
                "hist": added,
                "median": None,
                "p90": None,
                "version": t.c.version + 1,
                "pending": true(),
            },
        )
    )


@cache
def _saves_facts(dialect: str) -> Prepared:
    return _save_facts(dialect_insert(dialect))


_ROLLUP_TABLES = (
    report_hours,
    report_days,
    report_hour_buckets,
    report_day_buckets,
    report_month_buckets,
)


class ReportWrites(ReportRebuild):
    """The writing half of `SqlReports`: rollups added to as things happen, and rebuilt from
    the source rows."""

    __slots__ = ()

    async def add(self, website_id: str, row: HourRow) -> None:
        hour_counts, day_counts, hour_bucket, day_bucket, month_bucket = _adds(self._db.dialect)
        key = {"w": website_id, "d": row.dimension.value, "k": row.key}
        at = {"hour": row.hour, "day": utc_day(row.hour)}
        if any(row.counts.values()):
            counts = {f"n_{name}": row.counts.get(name, 0) for name in COUNTS}
            # Held back and merged with the transaction's other counts of the same hour (day).
            sums = tuple(counts)
            of = (website_id, row.dimension, row.key)
            await self._db.add_later(
                hour_counts, (*of, at["hour"]), {**key, "hour": at["hour"], **counts}, sums
            )
            await self._db.add_later(
                day_counts, (*of, at["day"]), {**key, "day": at["day"], **counts}, sums
            )
            started = row.counts.get("conversations_started", 0)
            if started and row.dimension is Dimension.WEBSITE:
                # Held back too, after the day's counts that make its row: written now, it
                # ran the transaction's held-back writes at once, and a batch then held the
                # website's rows from its first new conversation to its commit.
                hour = row.hour.hour
                await self._db.add_later(
                    _add_started(self._db.dialect),
                    (website_id, at["day"], hour),
                    {
                        "w": website_id,
                        "day": at["day"],
                        "h": hour,
                        "path": f"$[{hour}]",
                        "n": started,
                    },
                    ("n",),
                )
        for metric, hist in row.durations.items():
            for bucket, n in hist.items():
                if n:
                    entry = {**key, "metric": metric, "bucket": bucket, "n": n}
                    await self._db.write(hour_bucket, {**entry, "hour": at["hour"]})
                    await self._db.write(day_bucket, {**entry, "day": at["day"]})
                    await self._db.write(month_bucket, {**entry, "month": utc_month(row.hour)})
                    if row.dimension is Dimension.WEBSITE:
                        await self._db.write(
                            _add_to_day_histogram(self._db.dialect),
                            {
                                "w": website_id,
                                "day": at["day"],
                                "metric": metric,
                                "b": str(bucket),
                                "p": f'$."{bucket}"',
                                "n": n,
                            },
                        )

    async def rebuild(self, website_id: str) -> None:
        # The days' versions start above the highest before, so that no stamp of a local day
        # kept before (domain/report_days.py) is ever met again, even one kept meanwhile.
        found: Any = await self._db.execute(_HIGHEST_VERSION, {"w": website_id})
        base = int(found.scalar() or 0) + 1
        await self._rebuild_hours(website_id, _ROLLUP_TABLES)  # report_rebuild.py
        for statement in _summed_layers(self._db.dialect):  # days and months, in the database
            await self._db.execute(statement, {"w": website_id, "v": base})

    async def refresh_statistics(self) -> None:
        if self._db.dialect == "postgresql":
            await self._db.execute(text(f"ANALYZE {', '.join(_ANALYZED)}"))

    async def forget(self, website_id: str, dimension: Dimension, key: str) -> None:
        for table in _ROLLUP_TABLES:
            c = table.c
            await self._db.execute(
                delete(table).where(
                    c.website_id == website_id, c.dimension == dimension.value, c.key == key
                )
            )

    async def _insert(self, table: Table, values: list[dict[str, Any]]) -> None:
        for start in range(0, len(values), 500):
            await self._db.execute(table.insert(), values[start : start + 500])

    async def rank_days(self) -> int:
        """Rank the website day histograms changed since they were last ranked (NULL median;
        a partial index keeps them), all websites; how many rows (`UNRANKED`). On PostgreSQL a
        node finding another one ranking returns 0 at once (`RANKING_LOCK`)."""
        dialect = self._db.dialect
        if dialect == "postgresql" and not await self._db.count(text(RANKING_LOCK)):
            return 0
        result: Any = await self._db.execute(text(f"{RANK_DAYS[dialect]} {UNRANKED[dialect]}"))
        return int(result.rowcount)

    async def save_facts(self, facts: ConversationFacts) -> None:
        await self._db.write(
            _saves_facts(self._db.dialect),
            {name: getattr(facts, name) for name in _FACT_COLUMNS},
        )


# The tables a rebuild fills anew: without fresh statistics (autovacuum comes later, or not at
# all on some servers) PostgreSQL plans `hour IN (...)` as a scan of every hour of the website.
_ANALYZED = (
    "report_hours",
    "report_days",
    "report_hour_buckets",
    "report_day_buckets",
    "report_month_buckets",
    "report_day_histograms",
    "report_conversations",
)


# The UTC day (month) of a stored hour (day): SQLite keeps UTC datetimes as text, PostgreSQL as
# timestamptz (whose `date_trunc` would follow the session's zone without `AT TIME ZONE`).
_TRUNCATE = {
    "sqlite": {
        "day": "substr({0}, 1, 10) || ' 00:00:00.000000'",
        "month": "substr({0}, 1, 7) || '-01 00:00:00.000000'",
    },
    "postgresql": {
        "day": "date_trunc('day', {0} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
        "month": "date_trunc('month', {0} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    },
}


@cache
def _summed_layers(dialect: str) -> list[Any]:
    """A rebuild's days and months, summed from its hours (days) by the database, set-based."""
    day = _TRUNCATE[dialect]["day"].format("hour")
    month = _TRUNCATE[dialect]["month"].format("day")
    bucket_columns = "website_id, dimension, {0}, key, metric, bucket"
    return [
        text(
            f"INSERT INTO report_days (website_id, dimension, day, key, version, {COUNT_COLUMNS})"
            f" SELECT website_id, dimension, {day}, key, :v, {SUMS} FROM report_hours"
            f" WHERE website_id = :w GROUP BY website_id, dimension, {day}, key"
        ),
        *(
            text(
                f"INSERT INTO {table} ({bucket_columns.format(at)}, n)"
                f" SELECT {bucket_columns.format(expr)}, SUM(n) FROM {source}"
                f" WHERE website_id = :w GROUP BY {bucket_columns.format(expr)}"
                " HAVING SUM(n) <> 0"
            )
            for table, at, expr, source in (
                ("report_day_buckets", "day", day, "report_hour_buckets"),
                ("report_month_buckets", "month", month, "report_day_buckets"),
            )
        ),
        text(
            "INSERT INTO report_day_histograms (website_id, day, metric, version, hist)"
            f" SELECT website_id, day, metric, :v, {_OBJECT[dialect]} FROM report_day_buckets"
            f" WHERE {WEBSITE} AND key = '' GROUP BY website_id, day, metric"
        ),
        text(f"{RANK_DAYS[dialect]} WHERE website_id = :w"),
        text(fill_started(dialect)),
    ]


_HIGHEST_VERSION = text(
    "SELECT MAX(v) FROM (SELECT MAX(version) AS v FROM report_days WHERE website_id = :w"
    " UNION ALL SELECT MAX(version) FROM report_day_histograms WHERE website_id = :w) AS a"
)

# A day's buckets as one JSON object (bucket -> count).
_OBJECT = {
    "sqlite": "json_group_object(bucket, n)",
    "postgresql": "jsonb_object_agg(CAST(bucket AS TEXT), n)",
}


@cache
def _add_started(dialect: str) -> Prepared:
    """Add `n` conversations started in hour `h` of a UTC day to its `started_hours` (on SQLite
    a statement of SQLAlchemy Core, so that it runs on the driver: `Db.write`)."""
    t = report_days
    where = (
        t.c.website_id == bindparam("w"),
        t.c.dimension == "website",
        t.c.key == "",
        t.c.day == bindparam("day"),
    )
    if dialect == "sqlite":
        path, kept = bindparam("path", type_=Text), t.c.started_hours
        added = func.json_set(
            func.coalesce(kept, literal_column(ZEROS)),
            path,
            func.coalesce(func.json_extract(kept, path), 0) + bindparam("n", type_=Integer),
        )
        return Prepared(update(t).where(*where).values({t.c.started_hours: added}))
    sql = f"{ADD_STARTED} WHERE website_id = :w AND dimension = 'website' AND key = ''"
    day = bindparam("day", type_=UTCDateTime())
    return Prepared(text(f"{sql} AND day = :day").bindparams(day), frozenset({"report_days"}))
