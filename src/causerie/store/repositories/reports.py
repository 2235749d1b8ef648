# ruff: noqa: S608 (the summary's SQL text is made of constants; every value is bound)
"""`SqlReports`: the hourly and daily rollups and each conversation's facts (docs/reports.md).

Every change is added in SQL (`INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n`), to its
hour and to its UTC day, counts and histogram buckets alike, so two transactions adding to one
row both count and nothing is read back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, text

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
)
from causerie.store import codec
from causerie.store.db import Prepared, Query, SqlRepository, dialect_insert
from causerie.store.schema import (
    conversations,
    messages,
    ratings,
    report_conversations,
    report_day_buckets,
    report_days,
    report_hour_buckets,
    report_hours,
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
def _adds(dialect: str) -> tuple[Prepared, Prepared, Prepared, Prepared]:
    """(add to an hour's counts, to a day's, to an hour's buckets, to a day's) on `dialect`,
    built at first use (the PostgreSQL dialect is imported only for a PostgreSQL store)."""
    insert = dialect_insert(dialect)
    return (
        _add_counts(insert, report_hours, "hour"),
        _add_counts(insert, report_days, "day"),
        _add_bucket(insert, report_hour_buckets, "hour"),
        _add_bucket(insert, report_day_buckets, "day"),
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
_ROLLUP_TABLES = (report_hours, report_days, report_hour_buckets, report_day_buckets)


class SqlReports(SqlRepository):
    __slots__ = ()

    async def add(self, website_id: str, row: HourRow) -> None:
        hour_counts, day_counts, hour_bucket, day_bucket = _adds(self._db.dialect)
        key = {"w": website_id, "d": row.dimension.value, "k": row.key}
        at = {"hour": row.hour, "day": utc_day(row.hour)}
        if any(row.counts.values()):
            counts = {f"n_{name}": row.counts.get(name, 0) for name in COUNTS}
            await self._db.write(hour_counts, {**key, "hour": at["hour"], **counts})
            await self._db.write(day_counts, {**key, "day": at["day"], **counts})
        for metric, hist in row.durations.items():
            for bucket, n in hist.items():
                if n:
                    entry = {**key, "metric": metric, "bucket": bucket, "n": n}
                    await self._db.write(hour_bucket, {**entry, "hour": at["hour"]})
                    await self._db.write(day_bucket, {**entry, "day": at["day"]})

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
        for table in _ROLLUP_TABLES:
            await self._db.execute(delete(table).where(table.c.website_id == website_id))
        days = Rollups()
        for row in rows:
            days.add(HourRow(utc_day(row.hour), row.dimension, row.key, row.counts, row.durations))
        for at, layer in (("hour", rows), ("day", days.rows())):
            counts: list[dict[str, Any]] = []
            buckets: list[dict[str, Any]] = []
            for row in layer:
                key = {"website_id": website_id, "dimension": row.dimension.value, "key": row.key}
                if any(row.counts.values()):
                    counts.append(
                        {**key, at: row.hour, **{n: row.counts.get(n, 0) for n in COUNTS}}
                    )
                for metric, hist in row.durations.items():
                    buckets.extend(
                        {**key, at: row.hour, "metric": metric, "bucket": b, "n": n}
                        for b, n in sorted(hist.items())
                        if n
                    )
            count_table, bucket_table = _LAYERS[at]
            await self._insert(count_table, counts)
            await self._insert(bucket_table, buckets)

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
        sql = _summary_sql(self._db.dialect, len(offsets), full, utc_days, by)
        first_day, last_day = _whole_days(start, end)
        params: dict[str, Any] = {
            "w": website_id,
            "start": start,
            "end": end,
            "ds": first_day,
            "de": last_day,
        }
        for n, (until, offset) in enumerate(offsets):
            params[f"u{n}"], params[f"o{n}"] = until, offset
        found = Summary()
        for row in await self._rows(sql["days"], params):
            found.days[int(row[0])] = dict(zip(COUNTS, row[1:], strict=True))
        hists: dict[tuple[str, str], dict[int, int]] = {}
        plan = None if utc_days or not full else plan_days(start, end, offsets)
        if not full:  # the period's totals only: whole UTC days and the edges' hours
            for _, metric, entries in await self._rows(sql["total_histograms"], params):
                _merge(hists, ("t", str(metric)), str(entries))
        elif plan is not None and len(plan.hours) * 2 < len(plan.days) * 24:
            await self._days_by_plan(sql, params, plan, hists)
        else:
            local_day = (lambda epoch: epoch // 86_400) if utc_days else hour_days(offsets)
            for at, metric, entries in await self._rows(sql["day_histograms"], params):
                _merge(hists, (f"d{local_day(int(at))}", str(metric)), str(entries))
        totals: dict[tuple[str, str], Counter[int]] = {}
        for (group, metric), hist in hists.items():
            if group != "t":
                totals.setdefault(("t", metric), Counter()).update(hist)
        hists.update(totals)
        for name, prefix in (("agent_histograms", "a"), ("breakdown_histograms", "b")):
            for key, metric, entries in await self._rows(sql.get(name), params):
                _merge(hists, (f"{prefix}{key}", str(metric)), str(entries))
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
        into: dict[tuple[str, str], dict[int, int]],
    ) -> None:
        """The website's local days' histograms from UTC days and the few hours that move."""
        first, last = min(plan.days), max(plan.days) + 86_400
        at = {"pd0": _utc_at(first), "pd1": _utc_at(last), "hours": list(map(_utc_at, plan.hours))}
        for day, metric, entries in await self._rows(sql["plan_days"], params | at):
            _merge(into, (f"d{plan.days[int(day)]}", str(metric)), str(entries))
        for hour, metric, entries in await self._rows(sql["plan_hours"], params | at):
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


_LAYERS = {"hour": (report_hours, report_hour_buckets), "day": (report_days, report_day_buckets)}


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


def _utc_at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _whole_days(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The whole UTC days within [start, end), as [first, last): read from the daily layer, the
    hours before and after from the hourly one. Without a whole day: (end, end), all hours."""
    first = utc_day(start)
    if first < start:
        first += timedelta(days=1)
    last = utc_day(end)
    return (first, last) if first < last else (end, end)


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
_EDGES = "((hour >= :start AND hour < :ds) OR (hour >= :de AND hour < :end))"
_DAYS_IN = "day >= :ds AND day < :de"


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
    return (
        f"SELECT key, {_SUMS} FROM (SELECT key, {_COUNT_COLUMNS} FROM report_hours"
        f" WHERE {where} AND {_EDGES}"
        f" UNION ALL SELECT key, {_COUNT_COLUMNS} FROM report_days"
        f" WHERE {where} AND {_DAYS_IN}) AS a GROUP BY key"
    )


def _per_key_buckets(dialect: str, dimension: str) -> str:
    """Each key's histograms over the period (days, then the edges' hours), joined per row of the
    layer in the index's order (no sort); Python merges them."""
    where = f"website_id = :w AND dimension = '{dimension}'"
    return " UNION ALL ".join(
        f"SELECT key, metric, {_CONCAT[dialect]} FROM {table} WHERE {where} AND {range_}"
        f" GROUP BY {at}, key, metric"
        for table, at, range_ in (
            ("report_hour_buckets", "hour", _EDGES),
            ("report_day_buckets", "day", _DAYS_IN),
        )
    )


@lru_cache(maxsize=64)
def _summary_sql(
    dialect: str, offsets: int, full: bool, utc_days: bool, by: str | None = None
) -> dict[str, Any]:
    """The statements of `SqlReports.summary`; `by`: a constant of `_BREAKDOWNS`, never input."""
    if utc_days:
        counts = _utc(dialect, "report_days", _COUNT_COLUMNS)
        table, at, range_ = "report_day_buckets", "day", "day >= :start AND day < :end"
    else:
        counts = _local(dialect, offsets, "report_hours", _COUNT_COLUMNS)
        table, at, range_ = "report_hour_buckets", "hour", _HOURS_IN
    statements: dict[str, Any] = {
        "days": f"SELECT day, {_SUMS} FROM ({counts}) AS b GROUP BY day",
    }
    # The website's histograms joined per hour (or UTC day) as "bucket n bucket n ...", in the
    # index's order: Python assigns them to local days, merges and ranks them. Summing bucket
    # rows per local day in SQL sorts them all, and window functions cost several times more
    # (docs/performance.md).
    statements["day_histograms"] = (
        f"SELECT {_EPOCH[dialect].format(at)}, metric, {_CONCAT[dialect]} FROM {table}"
        f" WHERE {_WEBSITE} AND key = '' AND {range_} GROUP BY {at}, key, metric"
    )
    if not utc_days:  # local days from UTC days and the hours that move (`plan_days`)
        concat, website = _CONCAT[dialect], f"{_WEBSITE} AND key = ''"
        statements["plan_days"] = (
            f"SELECT {_EPOCH[dialect].format('day')}, metric, {concat} FROM report_day_buckets"
            f" WHERE {website} AND day >= :pd0 AND day < :pd1 GROUP BY day, key, metric"
        )
        statements["plan_hours"] = (
            f"SELECT {_EPOCH[dialect].format('hour')}, metric, {concat} FROM report_hour_buckets"
            f" WHERE {website} AND hour IN :hours GROUP BY hour, key, metric"
        )
    if not full:
        statements["total_histograms"] = _per_key_buckets(dialect, "website")
    if full:
        statements["agent_histograms"] = _per_key_buckets(dialect, "operator")
    if by is not None:
        statements["breakdown_histograms"] = _per_key_buckets(dialect, by)
    if full:
        statements["agents"] = _per_key("operator")
        if by is not None:
            statements["breakdown"] = _per_key(by)
        week = _local(dialect, offsets, "report_hours", "conversations_started")
        statements["week"] = (
            f"SELECT (lh + 72) % 168 AS how, SUM(conversations_started) FROM ({week}) AS b"
            " WHERE conversations_started > 0 GROUP BY (lh + 72) % 168"
        )
    binds = [
        *(
            bindparam(name, type_=UTCDateTime())
            for name in ("start", "end", "ds", "de", "pd0", "pd1")
        ),
        bindparam("hours", type_=UTCDateTime(), expanding=True),
    ]
    return {
        name: text(sql).bindparams(*(b for b in binds if f":{b.key}" in sql))
        for name, sql in statements.items()
    }
