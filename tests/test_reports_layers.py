"""Reports' storage layers (docs/reports.md "Speed"): histograms as integer rows, UTC days summed
from their hours, and reports that read whole days from the daily layer giving the same figures
as the hours alone, across daylight-saving changes and in half-hour zones; migration 0018."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, select, text

from causerie.actions.reports import do_rank_days, get_report
from causerie.clock import ManualClock
from causerie.domain.models import Actor
from causerie.domain.report_days import plan_days
from causerie.domain.reports import Dimension, HourRow, Period, bucket, percentile
from causerie.store.database import sqlite_engine
from causerie.store.migrate import upgrade
from causerie.store.postgres import postgres_engine
from causerie.store.schema.reports import report_days, report_month_buckets
from tests.conftest import Harness, Site
from tests.support import empty_database, in_one_transaction, is_sqlite, migrate_on

AGENTS = ("agent", "admin")
# Hours around both daylight-saving changes of 2026 in Europe (29 March, 25 October), North
# America (8 March, 1 November) and Lord Howe (5 April, 4 October: half an hour).
SPANS = (
    (datetime(2026, 3, 3, 5, tzinfo=UTC), 24 * 40),
    (datetime(2026, 9, 28, 11, tzinfo=UTC), 24 * 40),
)
ZONES = ("UTC", "Europe/Paris", "Asia/Kolkata", "America/St_Johns", "Australia/Lord_Howe")


def _seed(harness: Harness, site: Site) -> list[tuple[str, HourRow]]:
    """Random hours of the website and two agents, added through the repository as the actions
    add them; returns (dimension key, row) of each hour added."""
    rng = random.Random(18)
    added: list[tuple[str, HourRow]] = []
    for start, hours in SPANS:
        for n in range(hours):
            if rng.random() < 0.3:
                continue
            hour = start + timedelta(hours=n)
            counts = {"conversations_started": rng.randrange(1, 4), "chatbox_loads": 5}
            durations = {
                metric: {bucket(rng.randrange(1, 9000)): 1 for _ in range(rng.randrange(0, 3))}
                for metric in ("first_response", "resolution")
            }
            added.append(("", HourRow(hour, Dimension.WEBSITE, "", counts, durations)))
            agent = site.operator_ids[rng.choice(AGENTS)]
            resolved = {"conversations_resolved": 1, "messages_operator": rng.randrange(1, 9)}
            added.append((agent, HourRow(hour, Dimension.OPERATOR, agent, resolved, durations)))

    async def add() -> None:
        async with harness.rt.store.transaction() as tx:
            for _, row in added:
                await tx.reports.add(site.website_id, row)

    harness.run(add())
    return added


async def _days(harness: Harness) -> list[tuple[Any, ...]]:
    d = report_days.c
    query = select(
        d.dimension,
        d.key,
        d.day,
        d.conversations_started,
        d.conversations_resolved,
        d.messages_operator,
    ).order_by(d.dimension, d.key, d.day)
    async with harness.rt.store.read() as tx:
        return [tuple(row) for row in await tx.db.execute(query)]


async def _months(harness: Harness) -> dict[tuple[str, str, datetime, str, int], int]:
    m = report_month_buckets.c
    query = select(m.dimension, m.key, m.month, m.metric, m.bucket, m.n).where(m.n != 0)
    async with harness.rt.store.read() as tx:
        return {tuple(row[:5]): row[5] for row in await tx.db.execute(query)}


def _months_from_days(
    added: list[tuple[str, HourRow]],
) -> dict[tuple[str, str, datetime, str, int], int]:
    """Each month's histograms: the sums of its hours, in Python."""
    sums: Counter[tuple[str, str, datetime, str, int]] = Counter()
    for key, row in added:
        month = row.hour.replace(day=1, hour=0)
        for metric, hist in row.durations.items():
            for at, n in hist.items():
                sums[row.dimension.value, key, month, metric, at] += n
    return {at: n for at, n in sums.items() if n}


def _expected(added: list[tuple[str, HourRow]], period: Period) -> dict[str, Any]:
    """The report's figures from the hours alone, in Python."""
    days: dict[date, Counter[str]] = {}
    day_hist: dict[tuple[date, str], Counter[int]] = {}
    agents: dict[str, Counter[str]] = {}
    agent_hist: dict[tuple[str, str], Counter[int]] = {}
    for key, row in added:
        if not period.start <= row.hour < period.end:
            continue
        if row.dimension is Dimension.WEBSITE:
            day = period.day_of(row.hour)
            days.setdefault(day, Counter()).update(row.counts)
            for metric, hist in row.durations.items():
                day_hist.setdefault((day, metric), Counter()).update(hist)
        else:
            agents.setdefault(key, Counter()).update(row.counts)
            for metric, hist in row.durations.items():
                agent_hist.setdefault((key, metric), Counter()).update(hist)

    def stats(hist: Counter[int] | None) -> tuple[int | None, int | None]:
        return (percentile(hist or {}, 50), percentile(hist or {}, 90))

    return {
        "days": {
            day.isoformat(): (
                counts["conversations_started"],
                *stats(day_hist.get((day, "first_response"))),
                *stats(day_hist.get((day, "resolution"))),
            )
            for day, counts in days.items()
        },
        "agents": {
            key: (
                counts["messages_operator"],
                counts["conversations_resolved"],
                *stats(agent_hist.get((key, "first_response"))),
                *stats(agent_hist.get((key, "resolution"))),
            )
            for key, counts in agents.items()
        },
    }


def _figures(report: dict[str, Any]) -> dict[str, Any]:
    def stats(f: dict[str, Any]) -> tuple[Any, ...]:
        metrics = ("first_response", "resolution")
        return tuple(f[f"{m}_{p}"] for m in metrics for p in ("median", "p90"))

    return {
        "days": {
            day["date"]: (day["conversations_started"], *stats(day))
            for day in report["days"]
            if day["conversations_started"]
        },
        "agents": {
            a["operator_id"]: (a["messages_operator"], a["conversations_resolved"], *stats(a))
            for a in report["agents"]
        },
    }


@pytest.mark.parametrize(
    ("zone", "first", "last", "lengths"),
    [
        ("Europe/Paris", "2026-03-28", "2026-03-30", [24, 23, 24]),  # spring: 23 hours
        ("Europe/Paris", "2026-10-24", "2026-10-26", [24, 25, 24]),  # autumn: 25 hours
        ("Asia/Kolkata", "2026-03-01", "2026-03-03", [24, 24, 24]),  # UTC+5:30
        ("Australia/Lord_Howe", "2026-04-04", "2026-04-06", [24, 24, 24]),  # half an hour back
    ],
)
def test_a_day_plan_gives_each_local_day_its_hours_once(
    zone: str, first: str, last: str, lengths: list[int]
) -> None:
    """Every hour counted once: a UTC day gives its 24 hours to one local day, the hours that
    belong elsewhere are taken back and given to theirs; what is left is each local day's hours."""
    period = Period(date.fromisoformat(first), date.fromisoformat(last), ZoneInfo(zone))
    plan = plan_days(period.start, period.end, period.offsets())
    got: Counter[int] = Counter()
    for local_day in plan.days.values():
        got[local_day] += 24
    for moves in plan.hours.values():
        for local_day, sign in moves:
            got[local_day] += sign
    first_day = (period.first - date(1970, 1, 1)).days
    assert dict(got) == {first_day + n: hours for n, hours in enumerate(lengths)}
    # Near UTC few hours move and the plan is read; at UTC+10:30 most do, and hours are read.
    assert (len(plan.hours) * 2 < 24 * len(plan.days)) is (zone != "Australia/Lord_Howe")


def test_days_are_their_hours_summed_and_reports_read_them_in_any_zone(
    harness: Harness, site: Site
) -> None:
    added = _seed(harness, site)
    by_day = harness.run(_days(harness))
    sums: Counter[tuple[str, str, datetime, str]] = Counter()
    for key, row in added:
        day = row.hour.replace(hour=0)
        for name, n in row.counts.items():
            sums[row.dimension.value, key, day, name] += n
    assert [tuple(r) for r in by_day] == [
        (
            d,
            k,
            day,
            sums[d, k, day, "conversations_started"],
            sums[d, k, day, "conversations_resolved"],
            sums[d, k, day, "messages_operator"],
        )
        for d, k, day in sorted({(d, k, day) for d, k, day, _ in sums})
    ]
    assert harness.run(_months(harness)) == _months_from_days(added)
    owner = Actor("operator", site.operator_ids["owner"])
    _reports_equal_the_hours(harness, site, owner, added)  # the days not ranked yet
    assert harness.run(do_rank_days(harness.rt)) > 0
    _reports_equal_the_hours(harness, site, owner, added)  # ranked: their ranks read as they are


def _reports_equal_the_hours(
    harness: Harness, site: Site, owner: Actor, added: list[tuple[str, HourRow]]
) -> None:
    for zone in ZONES:
        for first, last in (
            ("2026-03-05", "2026-04-08"),  # across the spring changes
            ("2026-10-01", "2026-11-03"),  # the autumn ones
            ("2026-03-29", "2026-03-29"),  # one day: hours only
            ("2026-03-08", "2026-03-09"),
            ("2026-02-25", "2026-04-14"),  # the whole of March from the monthly layer
            ("2026-09-20", "2026-11-10"),  # October's, and its autumn change
            ("2026-02-27", "2026-04-30"),  # March, and April's days
        ):
            period = Period(date.fromisoformat(first), date.fromisoformat(last), ZoneInfo(zone))
            found = harness.run(
                get_report(harness.rt, owner, site.website_id, first=first, last=last, tz=zone)
            )
            assert _figures(found) == _expected(added, period), (zone, first, last)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 10, tzinfo=UTC))


# -- migration 0018 carries the JSON histograms over ---------------------------------------------


@pytest.fixture
def empty_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    with empty_database(database_url, tmp_path) as url:
        yield url


def _to(revision: str, statements: tuple[str, ...], conn: Connection) -> None:
    migrate_on(conn, "upgrade", revision)
    zone = "" if conn.dialect.name == "sqlite" else "+00"  # the server's zone may not be UTC
    for sql in statements:
        conn.execute(text(sql.replace("@Z", zone)))


def _on(url: str, revision: str, *statements: str) -> None:
    in_one_transaction(url, partial(_to, revision, statements))


def test_0018_moves_json_histograms_to_bucket_rows_and_sums_the_days(empty_url: str) -> None:
    counts = "0, 0, 1, 0, 2, 1, 0, 0"
    _on(
        empty_url,
        "0016",
        "INSERT INTO websites (id, name, origins, settings, created_at)"
        " VALUES ('w1', 'W', '[]', '{}', '2026-01-01 00:00:00@Z')",
        "INSERT INTO report_hours VALUES"
        f" ('w1', 'website', '', '2026-03-28 22:00:00@Z', {counts}, '{{\"30\": 2, \"640\": 1}}',"
        " '{}'),"
        f" ('w1', 'website', '', '2026-03-28 23:00:00@Z', {counts}, '{{\"30\": 1}}',"
        ' \'{"1000": 1, "7": 0}\'),'
        f" ('w1', 'operator', 'a1', '2026-03-29 01:00:00@Z', {counts}, '{{}}', '{{\"1000\": 1}}')",
    )
    assert harness_free_upgrade(empty_url)
    rows = _read(
        empty_url,
        "SELECT dimension, key, hour, metric, bucket, n FROM report_hour_buckets"
        " ORDER BY 1 DESC, 3, 4, 5",
        "SELECT dimension, key, day, conversations_started, messages_visitor FROM report_days"
        " ORDER BY 1 DESC, 3",
        "SELECT dimension, key, day, metric, bucket, n FROM report_day_buckets"
        " ORDER BY 1 DESC, 3, 4, 5",
    )
    h = [datetime(2026, 3, 28, 22, tzinfo=UTC), datetime(2026, 3, 28, 23, tzinfo=UTC)]
    day = datetime(2026, 3, 28, tzinfo=UTC)
    day2 = datetime(2026, 3, 29, tzinfo=UTC)
    assert rows[0] == [
        ("website", "", h[0], "first_response", 30, 2),
        ("website", "", h[0], "first_response", 640, 1),
        ("website", "", h[1], "first_response", 30, 1),
        ("website", "", h[1], "resolution", 1000, 1),
        ("operator", "a1", datetime(2026, 3, 29, 1, tzinfo=UTC), "resolution", 1000, 1),
    ]
    assert rows[1] == [("website", "", day, 2, 4), ("operator", "a1", day2, 1, 2)]
    assert rows[2] == [
        ("website", "", day, "first_response", 30, 3),
        ("website", "", day, "first_response", 640, 1),
        ("website", "", day, "resolution", 1000, 1),
        ("operator", "a1", day2, "resolution", 1000, 1),
    ]


def test_0019_sums_the_days_histograms_into_months(empty_url: str) -> None:
    _on(
        empty_url,
        "0018",
        "INSERT INTO websites (id, name, origins, settings, created_at)"
        " VALUES ('w1', 'W', '[]', '{}', '2026-01-01 00:00:00@Z')",
        "INSERT INTO report_day_buckets VALUES"
        " ('w1', 'website', '2026-03-01 00:00:00@Z', '', 'first_response', 30, 2),"
        " ('w1', 'website', '2026-03-31 00:00:00@Z', '', 'first_response', 30, 1),"
        " ('w1', 'website', '2026-03-31 00:00:00@Z', '', 'resolution', 640, 1),"
        " ('w1', 'website', '2026-04-01 00:00:00@Z', '', 'first_response', 30, 4),"
        " ('w1', 'website', '2026-04-02 00:00:00@Z', '', 'resolution', 1000, 0),"
        " ('w1', 'operator', '2026-03-15 00:00:00@Z', 'a1', 'resolution', 640, 1)",
    )
    assert harness_free_upgrade(empty_url)
    rows = _read(
        empty_url,
        "SELECT dimension, key, month, metric, bucket, n FROM report_month_buckets"
        " ORDER BY 1 DESC, 3, 4, 5",
    )
    assert _day_histograms(empty_url) == {
        (datetime(2026, 3, 1, tzinfo=UTC), "first_response"): {30: 2},
        (datetime(2026, 3, 31, tzinfo=UTC), "first_response"): {30: 1},
        (datetime(2026, 3, 31, tzinfo=UTC), "resolution"): {640: 1},
        (datetime(2026, 4, 1, tzinfo=UTC), "first_response"): {30: 4},
    }
    march, april = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    assert rows[0] == [
        ("website", "", march, "first_response", 30, 3),
        ("website", "", march, "resolution", 640, 1),
        ("website", "", april, "first_response", 30, 4),
        ("operator", "a1", march, "resolution", 640, 1),
    ]


def test_0022_ranks_the_days_histograms(empty_url: str) -> None:
    _on(
        empty_url,
        "0021",
        "INSERT INTO websites (id, name, origins, settings, created_at)"
        " VALUES ('w1', 'W', '[]', '{}', '2026-01-01 00:00:00@Z')",
        "INSERT INTO report_day_histograms (website_id, day, metric, hist) VALUES"
        # 30 twice, 640 once (1000 taken back to 0): the median is 30, the 90th 640
        """ ('w1', '2026-03-01 00:00:00@Z', 'first_response', '{"640": 1, "1000": 0, "30": 2}'),"""
        """ ('w1', '2026-03-01 00:00:00@Z', 'resolution', '{"1000": 0}'),"""
        """ ('w1', '2026-03-02 00:00:00@Z', 'resolution', '{"9": 5, "10": 5, "11": 1}')""",
        # Conversations started at 00:00 and 23:00 on 1 March (and none on the 2nd).
        f"INSERT INTO report_hours VALUES {_hour('2026-03-01 00', 2)}, {_hour('2026-03-01 23', 1)},"
        f" {_hour('2026-03-02 05', 0)}",
        f"INSERT INTO report_days VALUES {_day('2026-03-01', 3)}, {_day('2026-03-02', 0)}",
    )
    assert harness_free_upgrade(empty_url)
    (rows,) = _read(
        empty_url, "SELECT day, metric, median, p90 FROM report_day_histograms ORDER BY 1, 2"
    )
    march = datetime(2026, 3, 1, tzinfo=UTC)
    assert rows == [
        (march, "first_response", 30, 640),
        (march, "resolution", None, None),
        (march + timedelta(days=1), "resolution", 10, 10),
    ]
    assert (percentile({9: 5, 10: 5, 11: 1}, 50), percentile({9: 5, 10: 5, 11: 1}, 90)) == (10, 10)
    (days,) = _read(empty_url, "SELECT day, started_hours FROM report_days ORDER BY day")
    assert [(day, _json(started)) for day, started in days] == [
        (march, [2, *[0] * 22, 1]),
        (march + timedelta(days=1), None),
    ]


def _hour(at: str, started: int) -> str:  # as the store writes it (microseconds on SQLite)
    return f"('w1', 'website', '', '{at}:00:00.000000@Z', 1, 0, {started}, 0, 0, 0, 0, 0)"


def _day(at: str, started: int) -> str:
    return f"('w1', 'website', '{at} 00:00:00.000000@Z', '', 1, 0, {started}, 0, 0, 0, 0, 0)"


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _day_histograms(url: str) -> dict[tuple[datetime, str], dict[int, int]]:
    (rows,) = _read(url, "SELECT day, metric, hist FROM report_day_histograms")
    return {
        (day, metric): {int(b): n for b, n in (json.loads(h) if isinstance(h, str) else h).items()}
        for day, metric, h in rows
    }


def harness_free_upgrade(url: str) -> bool:
    return asyncio.run(upgrade(url))


def _read(url: str, *queries: str) -> list[list[tuple[Any, ...]]]:
    def fix(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if isinstance(value, str) and len(value) == 19 and value[4] == "-":
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        if isinstance(value, str) and len(value) == 26 and value[4] == "-":
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value

    def read(conn: Connection) -> list[list[tuple[Any, ...]]]:
        return [[tuple(map(fix, row)) for row in conn.execute(text(q))] for q in queries]

    if is_sqlite(url):
        engine = sqlite_engine(url)
        try:
            with engine.begin() as conn:
                return read(conn)
        finally:
            engine.dispose()

    async def run() -> list[list[tuple[Any, ...]]]:
        engine = postgres_engine(url, pool_size=1)
        try:
            async with engine.begin() as aconn:
                return await aconn.run_sync(read)
        finally:
            await engine.dispose()

    return asyncio.run(run())
