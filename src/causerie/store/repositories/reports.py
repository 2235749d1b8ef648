# ruff: noqa: S608 (the summary's SQL text is made of constants; every value is bound)
"""`SqlReports`: the hourly rollups and each conversation's facts (docs/reports.md).

Counters are added in SQL (`INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n`), so two
transactions adding to one hour both count. A histogram is read and written back after that
upsert, which holds the row's lock on PostgreSQL until the commit (SQLite has one writer).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import bindparam, delete, select, text, update

from causerie.domain.reports import (
    COUNTS,
    DURATIONS,
    ConversationFacts,
    Dimension,
    HourRow,
    Summary,
)
from causerie.store import codec
from causerie.store.db import Prepared, Query, SqlRepository, dialect_insert
from causerie.store.schema import (
    conversations,
    messages,
    report_conversations,
    report_hours,
    sessions,
    websites,
)
from causerie.store.types import UTCDateTime

_KEY = ("website_id", "dimension", "key", "hour")
_WHERE_ROW = (
    (report_hours.c.website_id == bindparam("w"))
    & (report_hours.c.dimension == bindparam("d"))
    & (report_hours.c.key == bindparam("k"))
    & (report_hours.c.hour == bindparam("h"))
)
_HISTOGRAMS = Query(
    select(report_hours.c.first_response, report_hours.c.resolution).where(_WHERE_ROW),
    tuple,
)


def _add(insert: Any) -> Prepared:
    stmt = insert(report_hours).values(
        website_id=bindparam("w"),
        dimension=bindparam("d"),
        key=bindparam("k"),
        hour=bindparam("h"),
        first_response={},
        resolution={},
        **{name: bindparam(f"n_{name}") for name in COUNTS},
    )
    return Prepared(
        stmt.on_conflict_do_update(
            index_elements=list(_KEY),
            set_={name: report_hours.c[name] + stmt.excluded[name] for name in COUNTS},
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
def _upserts(dialect: str) -> tuple[Prepared, Prepared]:
    """(add to an hour's counts, save a conversation's facts) on `dialect`, built at first use."""
    insert = dialect_insert(dialect)
    return _add(insert), _save_facts(insert)


_SET_HISTOGRAMS = Prepared(
    update(report_hours)
    .where(_WHERE_ROW)
    .values(first_response=bindparam("fr"), resolution=bindparam("rs"))
)
_HOURS = (
    select(
        report_hours.c.dimension,
        report_hours.c.key,
        report_hours.c.hour,
        *(report_hours.c[name] for name in COUNTS),
        *(report_hours.c[name] for name in DURATIONS),
    )
    .where(
        report_hours.c.website_id == bindparam("w"),
        report_hours.c.dimension.in_(bindparam("dimensions", expanding=True)),
        report_hours.c.hour >= bindparam("start"),
        report_hours.c.hour < bindparam("end"),
    )
    .order_by(report_hours.c.hour)
)
_ALL_DIMENSIONS = [d.value for d in Dimension]
_FACTS = Query(
    select(report_conversations).where(report_conversations.c.conversation_id == bindparam("id")),
    codec.report_facts,
)


def _histogram_in(stored: Mapping[str, int]) -> dict[int, int]:
    return {int(key): count for key, count in stored.items()}


def _histogram_out(hist: Mapping[int, int]) -> dict[str, int]:
    return {str(key): hist[key] for key in sorted(hist) if hist[key]}


class SqlReports(SqlRepository):
    __slots__ = ()

    async def add(self, website_id: str, row: HourRow) -> None:
        params = {"w": website_id, "d": row.dimension.value, "k": row.key, "h": row.hour}
        counts = {f"n_{name}": row.counts.get(name, 0) for name in COUNTS}
        await self._db.write(_upserts(self._db.dialect)[0], {**params, **counts})
        if not any(row.durations.values()):
            return
        found = await self._db.fetch_one(_HISTOGRAMS, params)
        assert found is not None
        merged: dict[str, dict[str, int]] = {}
        for at, name in enumerate(DURATIONS):
            hist = Counter(_histogram_in(found[at]))
            hist.update(row.durations.get(name, {}))
            merged[name] = _histogram_out(hist)
        await self._db.write(
            _SET_HISTOGRAMS,
            {**params, "fr": merged["first_response"], "rs": merged["resolution"]},
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
        return [_hour_row(row) for row in await self._db.execute(_HOURS, params)]

    async def replace_hours(self, website_id: str, rows: list[HourRow]) -> None:
        await self._db.execute(delete(report_hours).where(report_hours.c.website_id == website_id))
        if not rows:
            return
        values: list[dict[str, Any]] = [
            {
                "website_id": website_id,
                "dimension": row.dimension.value,
                "key": row.key,
                "hour": row.hour,
                **{name: row.counts.get(name, 0) for name in COUNTS},
                **{name: _histogram_out(row.durations.get(name, {})) for name in DURATIONS},
            }
            for row in rows
        ]
        for start in range(0, len(values), 500):
            await self._db.execute(report_hours.insert(), values[start : start + 500])

    async def summary(
        self,
        website_id: str,
        start: datetime,
        end: datetime,
        offsets: list[tuple[int, int]],
        *,
        full: bool = True,
    ) -> Summary:
        sql = _summary_sql(self._db.dialect, len(offsets), full)
        params: dict[str, Any] = {"w": website_id, "start": start, "end": end}
        for n, (until, offset) in enumerate(offsets):
            params[f"u{n}"], params[f"o{n}"] = until, offset
        found = Summary()
        for row in await self._rows(sql["days"], params):
            found.days[int(row[0])] = dict(zip(COUNTS, row[1:], strict=True))
        for group, metric, median, p90 in await self._rows(sql["percentiles"], params):
            found.percentiles[str(group), str(metric)] = (median, p90)
        if full:
            for row in await self._rows(sql["agents"], params):
                found.agents[str(row[0])] = dict(zip(COUNTS, row[1:], strict=True))
            for how, started in await self._rows(sql["week"], params):
                found.week[int(how)] = int(started)
        return found

    async def _rows(self, stmt: Any, params: dict[str, Any]) -> list[Any]:
        return list(await self._db.execute(stmt, params))

    async def facts(self, conversation_id: str) -> ConversationFacts | None:
        return await self._db.fetch_one(_FACTS, {"id": conversation_id})

    async def save_facts(self, facts: ConversationFacts) -> None:
        await self._db.write(
            _upserts(self._db.dialect)[1],
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

    async def conversation_starts(self, website_id: str) -> list[tuple[str, datetime]]:
        result = await self._db.execute(
            select(conversations.c.id, conversations.c.created_at).where(
                conversations.c.website_id == website_id
            )
        )
        return [tuple(row) for row in result]

    async def messages_for_rebuild(
        self, website_id: str
    ) -> list[tuple[str, str, str | None, str, datetime]]:
        result = await self._db.execute(
            select(
                messages.c.conversation_id,
                messages.c.author,
                messages.c.operator_id,
                messages.c.type,
                messages.c.created_at,
            )
            .join(conversations, conversations.c.id == messages.c.conversation_id)
            .where(conversations.c.website_id == website_id)
            .order_by(messages.c.conversation_id, messages.c.seq)
        )
        return [tuple(row) for row in result]

    async def all_facts(self, website_id: str) -> list[ConversationFacts]:
        result = await self._db.execute(
            select(report_conversations).where(report_conversations.c.website_id == website_id)
        )
        return [codec.report_facts(row) for row in result]


_DIMENSIONS = {d.value: d for d in Dimension}
_N = len(COUNTS)


def _hour_row(row: Any) -> HourRow:
    counts = {name: n for name, n in zip(COUNTS, row[3 : 3 + _N], strict=True) if n}
    durations = {}
    for name, stored in zip(DURATIONS, row[3 + _N :], strict=True):
        if stored:
            durations[name] = {int(key): count for key, count in stored.items()}
    return HourRow(row[2], _DIMENSIONS[row[0]], row[1], counts, durations)


# -- a period's report, summed by the database ---------------------------------------------------
#
# A year is ~17,500 rows of a website and an agent: decoding them in Python costs far more than
# the report's budget, so the database sums them per local day and per agent and takes the
# percentiles of the histograms itself (window functions), returning a few hundred rows. The local
# day of an hour is (its last second + the zone's offset then) // 86400, the offsets coming from
# `Period.offsets()`; JSON histograms are opened with `json_each` (SQLite) or `jsonb_each_text`.
# These statements are SQL text: SQLAlchemy Core has no portable form for a table-valued JSON
# function joined laterally.

_EPOCH = {
    "sqlite": "CAST(strftime('%s', hour) AS INTEGER)",
    "postgresql": "CAST(EXTRACT(EPOCH FROM hour) AS BIGINT)",
}
_EACH = {"sqlite": "json_each(x.{0}) AS j", "postgresql": "jsonb_each_text(x.{0}) AS j"}
_SUMS = ", ".join(f"SUM({name}) AS {name}" for name in COUNTS)
_RANGE = "website_id = :w AND hour >= :start AND hour < :end"


def _offset_case(count: int) -> str:
    whens = " ".join(f"WHEN e < :u{n} THEN :o{n}" for n in range(count))
    return f"CASE {whens} ELSE 0 END"


@lru_cache(maxsize=64)
def _summary_sql(dialect: str, offsets: int, full: bool) -> dict[str, Any]:
    e = f"({_EPOCH[dialect]} + 3599)"
    shift = _offset_case(offsets)
    local = f"SELECT *, (e + {shift}) / 86400 AS day, (e - 1799 + {shift}) / 3600 AS lh FROM"
    base = f"{local} (SELECT *, {e} AS e FROM report_hours WHERE {_RANGE}) AS r"
    statements: dict[str, Any] = {
        "days": f"SELECT day, {_SUMS} FROM ({base}) AS b WHERE dimension = 'website' GROUP BY day",
    }
    dimensions = "('website', 'operator')" if full else "('website')"
    entries = []
    for metric in DURATIONS:
        each = _EACH[dialect].format(metric)
        entries.append(
            "SELECT CASE WHEN x.dimension = 'website' THEN 'd' || x.day"
            f" ELSE 'a' || x.key END AS g, '{metric}' AS metric, j.key AS bucket,"
            f" j.value AS n FROM x, {each}"
        )
    statements["percentiles"] = (
        f"WITH x AS (SELECT dimension, key, day, first_response, resolution FROM ({base}) AS b"
        f" WHERE dimension IN {dimensions}),"
        f" g AS ({' UNION ALL '.join(entries)}),"
        " h AS (SELECT g, metric, CAST(bucket AS INTEGER) AS bucket,"
        " SUM(CAST(n AS INTEGER)) AS n FROM g GROUP BY g, metric, CAST(bucket AS INTEGER)"
        " HAVING SUM(CAST(n AS INTEGER)) > 0),"
        # The whole period: the days' histograms summed (each website row read once).
        " ht AS (SELECT g, metric, bucket, n FROM h UNION ALL SELECT 't', metric, bucket,"
        " SUM(n) FROM h WHERE g LIKE 'd%' GROUP BY metric, bucket),"
        " c AS (SELECT g, metric, bucket,"
        " SUM(n) OVER (PARTITION BY g, metric ORDER BY bucket ROWS UNBOUNDED PRECEDING) AS cum,"
        " SUM(n) OVER (PARTITION BY g, metric) AS total FROM ht)"
        " SELECT g, metric, MIN(CASE WHEN cum * 100 >= total * 50 THEN bucket END),"
        " MIN(CASE WHEN cum * 100 >= total * 90 THEN bucket END) FROM c GROUP BY g, metric"
    )
    if full:
        statements["agents"] = (
            f"SELECT key, {_SUMS} FROM report_hours WHERE {_RANGE}"
            " AND dimension = 'operator' GROUP BY key"
        )
        statements["week"] = (
            f"SELECT (lh + 72) % 168 AS how, SUM(conversations_started) FROM ({base}) AS b"
            " WHERE dimension = 'website' AND conversations_started > 0 GROUP BY (lh + 72) % 168"
        )
    binds = [bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime())]
    return {name: text(sql).bindparams(*binds) for name, sql in statements.items()}
