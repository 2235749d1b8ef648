# ruff: noqa: S608 (the summary's SQL text is made of constants; every value is bound)
"""`SqlReports`: the hourly and daily rollups and each conversation's facts (docs/reports.md).

Every change is added in SQL (`INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n`), to its
hour and to its UTC day, counts and histogram buckets alike, so two transactions adding to one
row both count and nothing is read back.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from typing import Any

import orjson
from sqlalchemy import Integer, Table, Text, bindparam, cast, delete, func, select, text

from causerie.domain.reports import (
    COUNTS,
    ConversationFacts,
    DayPlan,
    Dimension,
    Groups,
    HourRow,
    MessageSource,
    Rating,
    Rollups,
    Summary,
    hour_days,
    percentiles,
    plan_days,
    utc_day,
    utc_month,
)
from causerie.store import codec
from causerie.store.db import Prepared, Query, SqlRepository, dialect_insert
from causerie.store.schema import (
    conversations,
    messages,
    ratings,
    report_conversations,
    report_day_buckets,
    report_day_histograms,
    report_days,
    report_hour_buckets,
    report_hours,
    report_month_buckets,
    sessions,
    websites,
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
    return Prepared(
        stmt.on_conflict_do_update(
            index_elements=["website_id", "dimension", "key", at],
            set_={name: table.c[name] + stmt.excluded[name] for name in COUNTS},
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
    return Prepared(
        stmt.on_conflict_do_update(
            index_elements=["website_id", "day", "metric"], set_={"hist": added}
        )
    )


@cache
def _saves_facts(dialect: str) -> Prepared:
    return _save_facts(dialect_insert(dialect))


def _range(table: Table, at: str) -> Any:
    return (
        table.c.website_id == bindparam("w"),
        table.c.dimension.in_(bindparam("dimensions", expanding=True)),
        table.c[at] >= bindparam("start"),
        table.c[at] < bindparam("end"),
    )


_HOURS = select(
    report_hours.c.dimension,
    report_hours.c.key,
    report_hours.c.hour,
    *(report_hours.c[name] for name in COUNTS),
).where(*_range(report_hours, "hour"))
_HOUR_BUCKETS = select(
    report_hour_buckets.c.dimension,
    report_hour_buckets.c.key,
    report_hour_buckets.c.hour,
    report_hour_buckets.c.metric,
    report_hour_buckets.c.bucket,
    report_hour_buckets.c.n,
).where(*_range(report_hour_buckets, "hour"), report_hour_buckets.c.n != 0)
_ALL_DIMENSIONS = [d.value for d in Dimension]
_DIMENSIONS = {d.value: d for d in Dimension}
_FACTS = Query(
    select(report_conversations).where(report_conversations.c.conversation_id == bindparam("id")),
    codec.report_facts,
)
_ROLLUP_TABLES = (
    report_hours,
    report_days,
    report_hour_buckets,
    report_day_buckets,
    report_month_buckets,
)


class SqlReports(SqlRepository):
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

    async def hours(
        self,
        website_id: str,
        start: datetime,
        end: datetime,
        dimensions: Collection[Dimension] | None = None,
    ) -> list[HourRow]:
        wanted = _ALL_DIMENSIONS if dimensions is None else [d.value for d in dimensions]
        params = {"w": website_id, "start": start, "end": end, "dimensions": wanted}
        rollups = Rollups()
        found: Any = await self._db.execute(_HOURS, params)
        for row in found:
            counts = {name: n for name, n in zip(COUNTS, row[3:], strict=True) if n}
            rollups.add(HourRow(row[2], _DIMENSIONS[row[0]], row[1], counts, {}))
        found = await self._db.execute(_HOUR_BUCKETS, params)
        for dimension, key, hour, metric, bucket, n in found:
            durations = {str(metric): {int(bucket): int(n)}}
            rollups.add(HourRow(hour, _DIMENSIONS[dimension], key, {}, durations))
        return rollups.rows()

    async def replace_hours(self, website_id: str, rows: list[HourRow]) -> None:
        for table in (*_ROLLUP_TABLES, report_day_histograms):
            await self._db.execute(delete(table).where(table.c.website_id == website_id))
        counts: list[dict[str, Any]] = []
        buckets: list[dict[str, Any]] = []
        for row in rows:
            key = {"website_id": website_id, "dimension": row.dimension.value, "key": row.key}
            if any(row.counts.values()):
                counts.append(
                    {**key, "hour": row.hour, **{n: row.counts.get(n, 0) for n in COUNTS}}
                )
            for metric, hist in row.durations.items():
                buckets.extend(
                    {**key, "hour": row.hour, "metric": metric, "bucket": b, "n": n}
                    for b, n in sorted(hist.items())
                    if n
                )
        await self._insert(report_hours, counts)
        await self._insert(report_hour_buckets, buckets)
        for statement in _summed_layers(self._db.dialect):  # days and months, in the database
            await self._db.execute(statement, {"w": website_id})

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

    async def summary(
        self,
        website_id: str,
        start: datetime,
        end: datetime,
        offsets: list[tuple[int, int]],
        *,
        full: bool = True,
        breakdown: Dimension | None = None,
    ) -> Summary:
        utc_days = all(offset == 0 for _, offset in offsets)
        by = breakdown.value if full and breakdown in _BREAKDOWNS else None
        plan = None if utc_days or not full else plan_days(start, end, offsets)
        if plan is not None and len(plan.hours) * 2 >= len(plan.days) * 24:
            plan = None  # most hours would move: read the hours
        sql = _summary_sql(self._db.dialect, len(offsets), full, utc_days, by, plan is not None)
        params: dict[str, Any] = {"w": website_id, "start": start, "end": end}
        params.update(zip(("ds", "de", "ms", "me"), _spans(start, end), strict=True))
        for n, (until, offset) in enumerate(offsets):
            params[f"u{n}"], params[f"o{n}"] = until, offset
        if plan is not None:
            first, last = min(plan.days), max(plan.days) + 86_400
            params |= {
                "pd0": _utc_at(first),
                "pd1": _utc_at(last),
                "hours": list(map(_utc_at, plan.hours)),
            }
        found = Summary()
        hists: dict[tuple[str, str], dict[int, int]] = {}
        if not full:  # the period's totals only: whole months, days and the edges' hours
            found.totals = dict(zip(COUNTS, [0] * len(COUNTS), strict=True))
            for row in await self._rows(sql["totals"], params):
                found.totals = dict(zip(COUNTS, (int(n or 0) for n in row[1:]), strict=True))
        elif plan is not None:
            await self._days_by_plan(sql, params, plan, found.days, hists)
        else:
            for row in await self._rows(sql["days"], params):
                found.days[int(row[0])] = dict(zip(COUNTS, row[1:], strict=True))
            if utc_days:
                for at, metric, hist in await self._rows(sql["day_histograms"], params):
                    _merge_object(hists, (f"d{int(at) // 86_400}", str(metric)), str(hist))
            else:
                local_day = hour_days(offsets)
                for at, metric, entries in await self._rows(sql["day_histograms"], params):
                    _merge(hists, (f"d{local_day(int(at))}", str(metric)), str(entries))
        for name, prefix in (
            ("total_histograms", "t"),
            ("agent_histograms", "a"),
            ("breakdown_histograms", "b"),
        ):
            for key, metric, entries in await self._rows(sql.get(name), params):
                _merge(hists, (prefix if prefix == "t" else f"{prefix}{key}", str(metric)), entries)
        found.percentiles = {at: percentiles(hist) for at, hist in hists.items()}
        if full:
            for row in await self._rows(sql["agents"], params):
                found.agents[str(row[0])] = dict(zip(COUNTS, row[1:], strict=True))
            if by is not None:
                for row in await self._rows(sql["breakdown"], params):
                    found.breakdown[str(row[0])] = dict(zip(COUNTS, row[1:], strict=True))
            for how, started in await self._rows(sql["week"], params):
                found.week[int(how)] = int(started)
        return found

    async def _days_by_plan(
        self,
        sql: dict[str, Any],
        params: dict[str, Any],
        plan: DayPlan,
        days: dict[int, dict[str, int]],
        into: dict[tuple[str, str], dict[int, int]],
    ) -> None:
        """The website's local days (counts and histograms) from UTC days and the few hours that
        move (`DayPlan`)."""
        sums: dict[int, list[int]] = {}
        for day, *counts in await self._rows(sql["plan_day_counts"], params):
            sums[plan.days[int(day)]] = [int(n) for n in counts]
        for hour, *counts in await self._rows(sql["plan_hour_counts"], params):
            for local_day, sign in plan.hours[int(hour)]:
                into_day = sums.setdefault(local_day, [0] * len(COUNTS))
                for i, n in enumerate(counts):
                    into_day[i] += sign * int(n)
        for local_day, counts in sums.items():
            days[local_day] = dict(zip(COUNTS, counts, strict=True))
        for day, metric, hist in await self._rows(sql["plan_days"], params):
            _merge_object(into, (f"d{plan.days[int(day)]}", str(metric)), str(hist))
        for hour, metric, entries in await self._rows(sql["plan_hours"], params):
            for local_day, sign in plan.hours[int(hour)]:
                _merge(into, (f"d{local_day}", str(metric)), str(entries), sign)

    async def _rows(self, stmt: Any, params: dict[str, Any]) -> list[Any]:
        return [] if stmt is None else list(await self._db.execute(stmt, params))

    async def facts(self, conversation_id: str) -> ConversationFacts | None:
        return await self._db.fetch_one(_FACTS, {"id": conversation_id})

    async def save_facts(self, facts: ConversationFacts) -> None:
        await self._db.write(
            _saves_facts(self._db.dialect),
            {name: getattr(facts, name) for name in _FACT_COLUMNS},
        )

    async def website_ids(self) -> list[str]:
        result = await self._db.execute(select(websites.c.id).order_by(websites.c.id))
        return [str(row[0]) for row in result]

    async def session_starts(self, website_id: str) -> list[datetime]:
        result = await self._db.execute(
            select(sessions.c.created_at).where(sessions.c.website_id == website_id)
        )
        return [row[0] for row in result]

    async def conversation_starts(self, website_id: str) -> list[tuple[str, datetime, Groups]]:
        c = conversations.c
        result: Any = await self._db.execute(
            select(c.id, c.created_at, c.labels, c.team_id).where(c.website_id == website_id)
        )
        return [(row[0], row[1], Groups(tuple(row[2] or ()), row[3])) for row in result]

    async def messages_for_rebuild(self, website_id: str) -> list[MessageSource]:
        return await self._messages(conversations.c.website_id == website_id)

    async def _messages(self, where: Any) -> list[MessageSource]:
        m = messages.c
        result = await self._db.execute(
            select(m.conversation_id, m.author, m.operator_id, m.type, m.created_at)
            .join(conversations, conversations.c.id == m.conversation_id)
            .where(where)
            .order_by(m.conversation_id, m.seq)
        )
        return [tuple(row) for row in result]

    async def ratings_for_rebuild(
        self, website_id: str
    ) -> list[tuple[str, str | None, datetime, int]]:
        r = ratings.c
        result = await self._db.execute(
            select(r.conversation_id, r.operator_id, r.resolved_at, r.rating).where(
                r.website_id == website_id
            )
        )
        return [tuple(row) for row in result]

    async def conversation_sources(
        self, conversation_id: str
    ) -> tuple[list[MessageSource], list[Rating]]:
        r = ratings.c
        found: Any = await self._db.execute(
            select(r.operator_id, r.resolved_at, r.rating).where(
                r.conversation_id == conversation_id
            )
        )
        ratings_of = [(row[0], row[1], row[2]) for row in found]
        return await self._messages(conversations.c.id == conversation_id), ratings_of

    async def all_facts(self, website_id: str) -> list[ConversationFacts]:
        result = await self._db.execute(
            select(report_conversations).where(report_conversations.c.website_id == website_id)
        )
        return [codec.report_facts(row) for row in result]


def _merge(
    into: dict[tuple[str, str], dict[int, int]], at: tuple[str, str], entries: str, sign: int = 1
) -> None:
    """Add "bucket n bucket n ..." (a group of rows as the database joined them) to a histogram
    (`sign` -1: take them away)."""
    numbers = iter(map(int, entries.split()))
    hist = into.get(at)
    if hist is None and sign == 1:  # the common case: a whole histogram, without a Python loop
        into[at] = dict(zip(numbers, numbers, strict=True))
        return
    if hist is None:
        hist = into[at] = {}
    for bucket, n in zip(numbers, numbers, strict=True):
        hist[bucket] = hist.get(bucket, 0) + n * sign


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
            f"INSERT INTO report_days (website_id, dimension, day, key, {_COUNT_COLUMNS})"
            f" SELECT website_id, dimension, {day}, key, {_SUMS} FROM report_hours"
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
            "INSERT INTO report_day_histograms (website_id, day, metric, hist)"
            f" SELECT website_id, day, metric, {_OBJECT[dialect]} FROM report_day_buckets"
            f" WHERE {_WEBSITE} AND key = '' GROUP BY website_id, day, metric"
        ),
    ]


# A day's buckets as one JSON object (bucket -> count), and its text as read back.
_OBJECT = {
    "sqlite": "json_group_object(bucket, n)",
    "postgresql": "jsonb_object_agg(CAST(bucket AS TEXT), n)",
}
_HIST_TEXT = {"sqlite": "hist", "postgresql": "CAST(hist AS TEXT)"}


def _merge_object(
    into: dict[tuple[str, str], dict[int, int]], at: tuple[str, str], hist: str
) -> None:
    """Add a day's histogram as its JSON object holds it to a local day's."""
    found: dict[str, int] = orjson.loads(hist)
    kept = into.get(at)
    if kept is None:
        into[at] = dict(zip(map(int, found), found.values(), strict=True))
        return
    for bucket, n in found.items():
        kept[int(bucket)] = kept.get(int(bucket), 0) + n


def _utc_at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _spans(start: datetime, end: datetime) -> tuple[datetime, datetime, datetime, datetime]:
    """The layers a period [start, end) is read from: its whole UTC days [ds, de) (the hours
    before and after come from the hourly layer; without a whole day, ds = de = end), and the
    whole UTC months [ms, me) among those days (the days before and after from the daily layer;
    without a whole month, ms = me = de)."""
    ds = utc_day(start)
    if ds < start:
        ds += timedelta(days=1)
    de = utc_day(end)
    if ds >= de:
        return end, end, end, end
    ms = utc_month(ds)
    if ms < ds:
        ms = utc_month(ms + timedelta(days=31))
    me = utc_month(de)
    return (ds, de, ms, me) if ms < me else (ds, de, de, de)


# -- a period's report, summed by the database ---------------------------------------------------
#
# The database sums the counts per local day and per agent, and gathers the histograms per local
# day and per agent; Python ranks them (percentiles). The local day of an hour is
# (its last second + the zone's offset then) // 86400, the offsets coming from `Period.offsets()`.
# When the zone is UTC over the whole period, a local day is a UTC day: the daily layer has it.
# Per agent, the period's whole UTC days come from the daily layer and its edges from hours. These
# statements are SQL text: their arithmetic on epochs has no portable form in SQLAlchemy Core.

_EPOCH = {
    "sqlite": "CAST(strftime('%s', {0}) AS INTEGER)",
    "postgresql": "CAST(EXTRACT(EPOCH FROM {0}) AS BIGINT)",
}
_CONCAT = {
    "sqlite": "group_concat(bucket || ' ' || n, ' ')",
    "postgresql": "string_agg(bucket || ' ' || n, ' ')",
}
_SUMS = ", ".join(f"SUM({name}) AS {name}" for name in COUNTS)
_COUNT_COLUMNS = ", ".join(COUNTS)
_WEBSITE = "website_id = :w AND dimension = 'website'"
_HOURS_IN = "hour >= :start AND hour < :end"
# A period's parts by layer (`_spans`): the hours before its first whole UTC day and after its
# last, the whole days before its first whole UTC month and after its last, and those months;
# separate ranges (not ORs) so that each is one range of the index.
_PARTS = (
    ("report_hour_buckets", "hour", "hour >= :start AND hour < :ds"),
    ("report_hour_buckets", "hour", "hour >= :de AND hour < :end"),
    ("report_day_buckets", "day", "day >= :ds AND day < :ms"),
    ("report_day_buckets", "day", "day >= :me AND day < :de"),
    ("report_month_buckets", "month", "month >= :ms AND month < :me"),
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
    e = f"({_EPOCH[dialect].format('hour')} + 3599)"
    shift = _offset_case(offsets)
    return (
        f"SELECT {columns}, (e + {shift}) / 86400 AS day, (e - 1799 + {shift}) / 3600 AS lh"
        f" FROM (SELECT {columns}, {e} AS e FROM {table}"
        f" WHERE {_WEBSITE} AND key = '' AND {_HOURS_IN}) AS r"
    )


def _utc(dialect: str, table: str, columns: str) -> str:
    """Rows of the website's UTC days in the period, with their day number."""
    day = _EPOCH[dialect].format("day")
    return (
        f"SELECT {columns}, {day} / 86400 AS day FROM {table}"
        f" WHERE {_WEBSITE} AND key = '' AND day >= :start AND day < :end"
    )


_BREAKDOWNS = (Dimension.LABEL, Dimension.TEAM)


def _per_key(dimension: str) -> str:
    """Counts per key of a dimension over the period: whole UTC days, then the edges' hours."""
    where = f"website_id = :w AND dimension = '{dimension}'"
    parts = " UNION ALL ".join(
        f"SELECT key, {_COUNT_COLUMNS} FROM {table} WHERE {where} AND {range_}"
        for table, range_ in _COUNT_PARTS
    )
    return f"SELECT key, {_SUMS} FROM ({parts}) AS a GROUP BY key"


def _per_key_buckets(dialect: str, dimension: str) -> str:
    """Each key's histograms over the period (months, days, the edges' hours), joined per row of
    a layer in the index's order (no sort); Python merges them."""
    where = f"website_id = :w AND dimension = '{dimension}'"
    return " UNION ALL ".join(
        f"SELECT key, metric, {_CONCAT[dialect]} FROM {table} WHERE {where} AND {range_}"
        f" GROUP BY {at}, key, metric"
        for table, at, range_ in _PARTS
    )


@lru_cache(maxsize=64)
def _summary_sql(
    dialect: str,
    offsets: int,
    full: bool,
    utc_days: bool,
    by: str | None = None,
    planned: bool = False,
) -> dict[str, Any]:
    """The statements of `SqlReports.summary`; `by`: a constant of `_BREAKDOWNS`, never input;
    `planned`: the website's local days are read by a `DayPlan`."""
    statements: dict[str, Any] = {"total_histograms": _per_key_buckets(dialect, "website")}
    if not full:
        statements["totals"] = _per_key("website")
    elif planned:  # local days from UTC days and the hours that move (`plan_days`)
        concat, website = _CONCAT[dialect], f"{_WEBSITE} AND key = ''"
        day, hour = _EPOCH[dialect].format("day"), _EPOCH[dialect].format("hour")
        statements["plan_day_counts"] = (
            f"SELECT {day}, {_COUNT_COLUMNS} FROM report_days"
            f" WHERE {website} AND day >= :pd0 AND day < :pd1"
        )
        statements["plan_hour_counts"] = (
            f"SELECT {hour}, {_COUNT_COLUMNS} FROM report_hours WHERE {website} AND hour IN :hours"
        )
        statements["plan_days"] = (
            f"SELECT {day}, metric, {_HIST_TEXT[dialect]} FROM report_day_histograms"
            " WHERE website_id = :w AND day >= :pd0 AND day < :pd1"
        )
        statements["plan_hours"] = (
            f"SELECT {hour}, metric, {concat} FROM report_hour_buckets"
            f" WHERE {website} AND hour IN :hours GROUP BY hour, key, metric"
        )
    else:
        if utc_days:  # the UTC days' histograms, one JSON object each
            counts = _utc(dialect, "report_days", _COUNT_COLUMNS)
            statements["day_histograms"] = (
                f"SELECT {_EPOCH[dialect].format('day')}, metric, {_HIST_TEXT[dialect]}"
                " FROM report_day_histograms"
                " WHERE website_id = :w AND day >= :start AND day < :end"
            )
        else:
            # The website's histograms joined per hour as "bucket n bucket n ...", in the
            # index's order: Python assigns them to local days, merges and ranks them. Summing
            # bucket rows per local day in SQL sorts them all, and window functions cost several
            # times more (docs/performance.md).
            counts = _local(dialect, offsets, "report_hours", _COUNT_COLUMNS)
            statements["day_histograms"] = (
                f"SELECT {_EPOCH[dialect].format('hour')}, metric, {_CONCAT[dialect]}"
                f" FROM report_hour_buckets WHERE {_WEBSITE} AND key = '' AND {_HOURS_IN}"
                " GROUP BY hour, key, metric"
            )
        statements["days"] = f"SELECT day, {_SUMS} FROM ({counts}) AS b GROUP BY day"
    if full:
        statements["agent_histograms"] = _per_key_buckets(dialect, "operator")
        statements["agents"] = _per_key("operator")
        if by is not None:
            statements["breakdown_histograms"] = _per_key_buckets(dialect, by)
            statements["breakdown"] = _per_key(by)
        week = _local(dialect, offsets, "report_hours", "conversations_started")
        statements["week"] = (
            f"SELECT (lh + 72) % 168 AS how, SUM(conversations_started) FROM ({week}) AS b"
            " WHERE conversations_started > 0 GROUP BY (lh + 72) % 168"
        )
    binds = [
        *(
            bindparam(name, type_=UTCDateTime())
            for name in ("start", "end", "ds", "de", "ms", "me", "pd0", "pd1")
        ),
        bindparam("hours", type_=UTCDateTime(), expanding=True),
    ]
    return {
        name: text(sql).bindparams(*(b for b in binds if f":{b.key}" in sql))
        for name, sql in statements.items()
    }
