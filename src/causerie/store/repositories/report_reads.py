"""Reports' reads (docs/reports.md "Speed"): a period's report from the rollups, and the source
rows of a rebuild.

The database sums and gathers (report_sql.py); Python assigns the histograms to local days,
merges and ranks them.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Table, bindparam, select, text

from causerie.domain.report_days import (
    DAY,
    DayPlan,
    FixedDay,
    OffsetDay,
    fixed_days,
    hour_days,
    plan_days,
    stamp_of,
)
from causerie.domain.report_windows import (
    CLASSES,
    HOUR,
    HourFigures,
    classes_from,
    day_class,
    windows,
)
from causerie.domain.reports import (
    COUNTS,
    DURATIONS,
    ConversationFacts,
    Dimension,
    HourRow,
    MessageSource,
    Rating,
    Rollups,
    Summary,
    percentiles,
    utc_day,
    utc_month,
    week_of_days,
)
from causerie.store import codec
from causerie.store.db import Query
from causerie.store.repositories.report_offsets import OffsetDays
from causerie.store.repositories.report_sql import (
    BREAKDOWNS,
    HAS_UNRANKED,
    hour_figures_sql,
    summary_sql,
)
from causerie.store.schema.accounts import websites
from causerie.store.schema.chat import conversations, messages, ratings
from causerie.store.schema.reports import report_conversations, report_hour_buckets, report_hours


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


class ReportReads(OffsetDays):
    """The reading half of `SqlReports` (and keeping the local days a report computed)."""

    __slots__ = ()

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
        by = breakdown.value if full and breakdown in BREAKDOWNS else None
        sql = summary_sql(self._db.dialect, len(offsets), full, utc_days, by)
        params: dict[str, Any] = {"w": website_id, "start": start, "end": end}
        params["wd"] = utc_day(start)
        params.update(zip(("ds", "de", "ms", "me", "hs", "te"), _spans(start, end), strict=True))
        for n, (until, offset) in enumerate(offsets):
            params[f"u{n}"], params[f"o{n}"] = until, offset
        found = Summary()
        hists: dict[tuple[str, str], dict[int, int]] = {}
        fresh: list[tuple[int, FixedDay, str]] = []
        if not full:  # the period's totals only: whole months, days and the edges' hours
            found.totals = dict(zip(COUNTS, [0] * len(COUNTS), strict=True))
            for row in await self._rows(sql["totals"], params):
                found.totals = dict(zip(COUNTS, (int(n or 0) for n in row[1:]), strict=True))
        elif utc_days:
            for row in await self._rows(sql["days"], params):
                found.days[int(row[0])] = dict(zip(COUNTS, row[1:], strict=True))
            # ranked by the database as the days changed
            for at, metric, *ranks, hist in await self._rows(sql["day_percentiles"], params):
                day = (f"d{int(at) // 86_400}", str(metric))
                if hist is None:
                    found.percentiles[day] = (ranks[0], ranks[1])
                else:  # changed since the last ranking
                    _merge_object(hists, day, str(hist))
        else:
            fresh = await self._local_days(params, offsets, found, hists)
        for name, prefix in (
            ("total_histograms", "t"),
            ("agent_histograms", "a"),
            ("breakdown_histograms", "b"),
        ):
            for key, metric, sign, entries in await self._rows(sql.get(name), params):
                at = (prefix if prefix == "t" else f"{prefix}{key}", str(metric))
                _merge(hists, at, entries, int(sign))
        found.percentiles.update((at, percentiles(hist)) for at, hist in hists.items())
        found.fresh = [
            OffsetDay(
                day_class(fixed.offset),
                day,
                stamp,
                found.days.get(day, {}),
                {m: found.percentiles.get((f"d{day}", m), (None, None)) for m in DURATIONS},
            )
            for day, fixed, stamp in fresh
        ]
        if full:
            for row in await self._rows(sql["agents"], params):
                found.agents[str(row[0])] = dict(zip(COUNTS, row[1:], strict=True))
            if by is not None:
                for row in await self._rows(sql["breakdown"], params):
                    found.breakdown[str(row[0])] = dict(zip(COUNTS, row[1:], strict=True))
            days = [
                (int(at), orjson.loads(hours))
                for at, hours in await self._rows(sql["week"], params)
            ]
            found.week = week_of_days(days, int(start.timestamp()), int(end.timestamp()), offsets)
        return found

    async def _local_days(
        self,
        params: dict[str, Any],
        offsets: list[tuple[int, int]],
        found: Summary,
        hists: dict[tuple[str, str], dict[int, int]],
    ) -> list[tuple[int, FixedDay, str]]:
        """The website's local days in a zone off UTC: those kept at their offset whose stamps
        hold (domain/report_days.py), the others from their hours (up to 31 days), or the whole
        period from the UTC days and the hours that move when more are missing. Returns the
        days computed that may be kept: (day, its offset and hours, its stamp)."""
        missing, expected = await self._kept(params, offsets, found)
        if not missing:
            return []
        if len(missing) > _FROM_HOURS_AT_MOST:
            await self._all_local_days(params, offsets, found.days, hists, found.percentiles)
        else:
            await self._from_hours(params, offsets, missing, found, hists)
        return [(day, *expected[day]) for day in missing if day in expected]

    async def days_to_keep(
        self, website_id: str, start: datetime, end: datetime, until: datetime
    ) -> list[OffsetDay]:
        """The local days at every offset of `CLASSES` that hold an hour of [start, end) (UTC
        midnights) and are over by `until`, whose UTC days have rows, and that are not kept at
        their UTC days' stamps now: computed from the hours in one pass (`windows`)."""
        first = int(start.timestamp()) // HOUR * HOUR - DAY + HOUR  # 24 hours reaching start
        last = min(-(-int(end.timestamp()) // HOUR) * HOUR - HOUR, int(until.timestamp()) - DAY)
        last -= last % HOUR
        if last < first:
            return []
        params = {"w": website_id, "sd": _utc_at(first - first % DAY), "end": _utc_at(last + DAY)}
        stamps = await self._day_stamps(params)
        kept = await self._kept_days(
            website_id, set(CLASSES), (first + CLASSES[0]) // DAY, (last + CLASSES[-1]) // DAY
        )
        wanted: dict[int, list[tuple[int, int, str]]] = {}  # first hour -> (offset, day, stamp)
        for hour in range(first, last + 1, HOUR):
            fixed = FixedDay(0, hour)
            if not any(u in stamps for u in fixed.utc_days()):
                continue  # no rollup row: an empty day, never read
            stamp = stamp_of(fixed, stamps)
            for offset in classes_from(hour):
                day = (hour + offset) // DAY
                row = kept.get((offset, day))
                if row is None or row[0] != stamp:
                    wanted.setdefault(hour, []).append((offset, day, stamp))
        if not wanted:
            return []
        low, high = min(wanted), max(wanted)
        hours = await self._hour_figures(website_id, low, high + DAY)
        found: list[OffsetDay] = []
        for n, window in enumerate(windows(hours, low, high, set(wanted)), 1):
            found += (
                OffsetDay(o, day, stamp, window.counts, window.ranks)
                for o, day, stamp in wanted[window.first]
            )
            if n % _WINDOWS_AT_ONCE == 0:
                await asyncio.sleep(0)  # the event loop served between a day's windows
        return found

    async def _hour_figures(self, website_id: str, start: int, end: int) -> dict[int, HourFigures]:
        """The website's figures of each UTC hour in [start, end) (epochs) that has any."""
        sql = hour_figures_sql(self._db.dialect)
        params = {"w": website_id, "start": _utc_at(start), "end": _utc_at(end)}
        found: dict[int, HourFigures] = {}
        for hour, *counts in await self._rows(sql["counts"], params):
            found[int(hour)] = HourFigures(tuple(int(n) for n in counts))
        for hour, metric, entries in await self._rows(sql["histograms"], params):
            numbers = iter(map(int, str(entries).split()))
            figures = found.setdefault(int(hour), HourFigures())
            figures.hists[str(metric)] = dict(zip(numbers, numbers, strict=True))
        return found

    async def _kept(
        self, params: dict[str, Any], offsets: list[tuple[int, int]], found: Summary
    ) -> tuple[list[int], dict[int, tuple[FixedDay, str]]]:
        """The local days of the period read as kept into `found`; returns those missing (not
        kept, stale, or with a change of offset) and the stamp each day at one offset has now.
        A day at one offset whose UTC days have no rollup row is empty: nothing to read."""
        start, end = int(params["start"].timestamp()), int(params["end"].timestamp())
        days = fixed_days(start, end, offsets)
        # The stamps first: a change after them makes what is kept with them stale, never the
        # reverse (on PostgreSQL each statement reads what is committed when it starts).
        stamps = await self._day_stamps({**params, "sd": utc_day(params["start"])})
        expected = {day: (fixed, stamp_of(fixed, stamps)) for day, fixed in days.items() if fixed}
        kept = await self._kept_days(
            params["w"],
            {day_class(fixed.offset) for fixed, _ in expected.values()},
            min(days),
            max(days),
        )
        missing: list[int] = []
        for day in days:
            at = expected.get(day)
            if at is not None and not any(u in stamps for u in at[0].utc_days()):
                continue  # every change to an hour writes its UTC day's rows: none, empty
            row = kept.get((day_class(at[0].offset), day)) if at else None
            if at is None or row is None or row[0] != at[1]:
                missing.append(day)
                continue
            found.days[day] = dict(zip(COUNTS, row[1 : 1 + len(COUNTS)], strict=True))
            ranks = row[1 + len(COUNTS) :]
            for i, metric in enumerate(DURATIONS):
                found.percentiles[(f"d{day}", metric)] = (ranks[2 * i], ranks[2 * i + 1])
        return missing, expected

    async def _from_hours(
        self,
        params: dict[str, Any],
        offsets: list[tuple[int, int]],
        missing: list[int],
        found: Summary,
        hists: dict[tuple[str, str], dict[int, int]],
    ) -> None:
        """Local days (at most `_FROM_HOURS_AT_MOST`) from their hours: two statements."""
        start, end = int(params["start"].timestamp()), int(params["end"].timestamp())
        sql = summary_sql(self._db.dialect, len(offsets), True, False, None, True)
        local_day = hour_days(offsets)
        first_hour = _first_hours(start, end, local_day)
        hours = [
            hour for day in missing for hour in range(first_hour(day), first_hour(day + 1), 3600)
        ]
        read = {"w": params["w"], "hours": list(map(_utc_at, hours))}
        for day in missing:
            found.days[day] = dict.fromkeys(COUNTS, 0)
        for hour, *counts in await self._rows(sql["plan_hour_counts"], read):
            into = found.days[local_day(int(hour))]
            for name, n in zip(COUNTS, counts, strict=True):
                into[name] += int(n)
        for hour, metric, entries in await self._rows(sql["plan_hours"], read):
            _merge(hists, (f"d{local_day(int(hour))}", str(metric)), str(entries))

    async def _all_local_days(
        self,
        params: dict[str, Any],
        offsets: list[tuple[int, int]],
        days: dict[int, dict[str, int]],
        into: dict[tuple[str, str], dict[int, int]],
        ranked: dict[tuple[str, str], tuple[int | None, int | None]],
    ) -> None:
        """Every local day of the period from the UTC days and the hours that move (`DayPlan`),
        or from the hours when most would move."""
        start, end = params["start"], params["end"]
        plan: DayPlan | None = plan_days(start, end, offsets)
        if plan is not None and len(plan.hours) * 2 >= len(plan.days) * 24:
            plan = None  # most hours would move: read the hours
        sql = summary_sql(self._db.dialect, len(offsets), True, False, None, plan is not None)
        if plan is not None:
            first, last = min(plan.days), max(plan.days) + 86_400
            planned = {
                **params,
                "pd0": _utc_at(first),
                "pd1": _utc_at(last),
                "hours": list(map(_utc_at, plan.hours)),
            }
            await self._days_by_plan(sql, planned, plan, days, into, ranked)
            return
        for row in await self._rows(sql["days"], params):
            days[int(row[0])] = dict(zip(COUNTS, row[1:], strict=True))
        local_day = hour_days(offsets)
        for at, metric, entries in await self._rows(sql["day_histograms"], params):
            _merge(into, (f"d{local_day(int(at))}", str(metric)), str(entries))

    async def _days_by_plan(
        self,
        sql: dict[str, Any],
        params: dict[str, Any],
        plan: DayPlan,
        days: dict[int, dict[str, int]],
        into: dict[tuple[str, str], dict[int, int]],
        ranked: dict[tuple[str, str], tuple[int | None, int | None]],
    ) -> None:
        """The website's local days (counts and histograms, or the ranks of those that are a
        ranked UTC day) from UTC days and the few hours that move (`DayPlan`)."""
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
        moved = [
            (int(hour), str(metric), str(entries))
            for hour, metric, entries in await self._rows(sql["plan_hours"], params)
        ]
        # A local day that is one UTC day, no hour with an entry moving in or out, has that UTC
        # day's histogram: its stored ranks, when it is ranked, are the local day's.
        touched = {(f"d{day}", metric) for hour, metric, _ in moved for day, _ in plan.hours[hour]}
        shared = {day for day, n in Counter(plan.days.values()).items() if n > 1}
        for day, metric, median, p90, hist in await self._rows(sql["plan_days"], params):
            local_day = plan.days[int(day)]
            at = (f"d{local_day}", str(metric))
            if median is None or at in touched or local_day in shared:
                _merge_object(into, at, str(hist))
            else:
                ranked[at] = (median, p90)
        for hour, metric, entries in moved:
            for local_day, sign in plan.hours[hour]:
                _merge(into, (f"d{local_day}", metric), entries, sign)

    async def _rows(self, stmt: Any, params: dict[str, Any]) -> list[Any]:
        return [] if stmt is None else list(await self._db.execute(stmt, params))

    async def facts(self, conversation_id: str) -> ConversationFacts | None:
        return await self._db.fetch_one(_FACTS, {"id": conversation_id})

    async def has_days_to_rank(self) -> bool:
        dialect = self._db.dialect
        return await self._db.one(text(HAS_UNRANKED[dialect])) is not None

    async def website_ids(self) -> list[str]:
        result = await self._db.execute(select(websites.c.id).order_by(websites.c.id))
        return [str(row[0]) for row in result]

    async def _messages(self, where: Any) -> list[MessageSource]:
        m = messages.c
        result = await self._db.execute(
            select(m.conversation_id, m.author, m.operator_id, m.type, m.created_at)
            .join(conversations, conversations.c.id == m.conversation_id)
            .where(where)
            .order_by(m.conversation_id, m.seq)
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


# Every zone's days are computed this many 24 hours at a time (a UTC day's starting hours, about
# 1 ms of the event loop), the loop served between them (`days_to_keep`).
_WINDOWS_AT_ONCE = 24

# Missing kept days are read from their hours when they are at most this many (the days changed
# since: most often the last ones, and the days of a change of offset); otherwise the whole
# period is read as when nothing is kept.
_FROM_HOURS_AT_MOST = 31


def _first_hours(start: int, end: int, local_day: Callable[[int], int]) -> Callable[[int], int]:
    """The first hour (epoch) of a local day in [start, end), or `end` past the last day."""

    def first_hour(day: int) -> int:
        hour = max(start, day * 86_400 - 16 * 3600)  # no zone is 16 hours ahead
        hour -= (hour - start) % 3600
        while hour < end and local_day(hour) < day:
            hour += 3600
        return min(hour, end)

    return first_hour


def _utc_at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _spans(start: datetime, end: datetime) -> tuple[datetime, ...]:
    """The layers a period [start, end) is read from: its whole UTC days [ds, de) (the hours
    before and after come from the hourly layer; without a whole day, ds = de = end), and the
    UTC months [ms, me) among or around those days: the days from ds to ms and from me to de are
    added from the daily layer, and when a month at an end holds more of the period's days than
    of the others, the whole month is read and its days outside taken away: [hs, ds) before and
    [de, te) after (empty otherwise: hs = ds, te = de). Without a month, ms = me = de."""
    ds = utc_day(start)
    if ds < start:
        ds += timedelta(days=1)
    de = utc_day(end)
    if ds >= de:
        return end, end, end, end, end, end
    first_month = utc_month(ds)  # the month holding ds
    last_month = de if utc_month(de) == de else _next_month(de)  # the month holding de - 1
    ms = ds if first_month == ds else _next_month(ds)
    me = utc_month(de)
    if ms >= me:  # no whole month among the days: all of them, or the months less the others
        outside = (ds - first_month).days + (last_month - de).days
        if _MONTH_COST * _months(first_month, last_month) + outside < (de - ds).days:
            return ds, de, first_month, last_month, first_month, last_month
        return ds, de, de, de, ds, de
    hs, te = ds, de
    if (ds - first_month).days + _MONTH_COST < (ms - ds).days:
        ms = hs = first_month
    if (last_month - de).days + _MONTH_COST < (de - me).days:
        me = te = last_month
    return ds, de, ms, me, hs, te


# A month's histogram counted as this many days' when choosing which layers to read (a month has
# more buckets than a day, fewer than its days together).
_MONTH_COST = 3


def _next_month(at: datetime) -> datetime:
    return utc_month(utc_month(at) + timedelta(days=32))


def _months(first: datetime, last: datetime) -> int:
    return (last.year - first.year) * 12 + last.month - first.month
