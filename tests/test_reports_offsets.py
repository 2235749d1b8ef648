"""Local days kept per UTC offset (domain/report_days.py, docs/reports.md "Speed"): a report
read from them equals the hours alone, in zones off UTC across their daylight-saving changes,
after new events, after an erasure and after a rebuild, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from causerie.actions.job_kinds import KINDS
from causerie.actions.jobs import do_run_due_jobs, do_schedule_periodic
from causerie.actions.privacy import do_erase_subject
from causerie.actions.reports import do_keep_days, do_keep_ended_days, do_rebuild, get_report
from causerie.clock import ManualClock
from causerie.domain.jobs import JobKind
from causerie.domain.models import Actor
from causerie.domain.report_days import OffsetDay, fixed_days
from causerie.domain.report_windows import CLASSES, day_class
from causerie.domain.reports import (
    COUNTS,
    DURATIONS,
    FIGURES,
    Dimension,
    HourRow,
    Period,
    bucket,
    build_report,
    percentile,
)
from tests.conftest import Harness, Site
from tests.test_reports import Scene
from tests.test_reports_layers import _expected, _figures, _seed

ZONES = ("Europe/Paris", "Asia/Kolkata", "America/St_Johns", "Australia/Lord_Howe")
# The days of 2026 on which each zone changes its offset: never kept.
CHANGES = {
    "Europe/Paris": {"2026-03-29", "2026-10-25"},
    "Asia/Kolkata": set(),
    "America/St_Johns": {"2026-03-08", "2026-11-01"},
    "Australia/Lord_Howe": {"2026-04-05", "2026-10-04"},
}
OFFSETS = {  # seconds east of UTC, in 2026
    "Europe/Paris": {3600, 7200},
    "Asia/Kolkata": {19800},
    "America/St_Johns": {-12600, -9000},
    "Australia/Lord_Howe": {37800, 39600},
}


def _date(day: int) -> str:
    return (date(1970, 1, 1) + timedelta(days=day)).isoformat()


def _period(zone: str, first: str, last: str) -> Period:
    return Period(date.fromisoformat(first), date.fromisoformat(last), ZoneInfo(zone))


@pytest.mark.parametrize("zone", ZONES)
def test_a_day_is_kept_at_its_offset_unless_the_offset_changes_in_it(zone: str) -> None:
    period = _period(zone, "2026-01-01", "2026-12-31")
    start, end = int(period.start.timestamp()), int(period.end.timestamp())
    days = fixed_days(start, end, period.offsets())
    epoch = date(1970, 1, 1)
    assert [epoch + timedelta(days=d) for d in days] == [
        period.first + timedelta(days=n) for n in range(365)
    ]
    changed = {(epoch + timedelta(days=d)).isoformat() for d, fixed in days.items() if not fixed}
    assert changed == CHANGES[zone]
    assert {fixed.offset for fixed in days.values() if fixed} == OFFSETS[zone]
    for d, fixed in days.items():
        if fixed is None:
            continue
        hours = [datetime.fromtimestamp(fixed.first + 3600 * i, UTC) for i in range(24)]
        local = epoch + timedelta(days=d)
        assert {period.day_of(hour) for hour in hours} == {local}, (zone, local)
        assert (
            period.day_of(hours[0] - timedelta(hours=1))
            < local
            < period.day_of(hours[-1] + timedelta(hours=1))
        )


# -- the hours alone, in Python: what every report must equal -----------------------------------


def _from_hours(harness: Harness, website_id: str, period: Period) -> dict[str, dict[str, Any]]:
    """Each local day's figures from the website's hourly rows, summed and ranked in Python."""

    async def read() -> list[HourRow]:
        async with harness.rt.store.read() as tx:
            return await tx.reports.hours(website_id, period.start, period.end, [Dimension.WEBSITE])

    counts: dict[date, Counter[str]] = {}
    hists: dict[tuple[date, str], Counter[int]] = {}
    for row in harness.run(read()):
        day = period.day_of(row.hour)
        counts.setdefault(day, Counter()).update(row.counts)
        for metric, hist in row.durations.items():
            hists.setdefault((day, metric), Counter()).update(hist)
    days: dict[str, dict[str, Any]] = {}
    for n in range(period.days):
        day = period.first + timedelta(days=n)
        c = counts.get(day, Counter())
        figures: dict[str, Any] = {name: c[name] for name in COUNTS}
        for metric in DURATIONS:
            hist = {b: k for b, k in hists.get((day, metric), Counter()).items() if k > 0}
            figures[f"{metric}_median"] = percentile(hist, 50)
            figures[f"{metric}_p90"] = percentile(hist, 90)
        figures["ratings_average"] = (
            round(c["ratings_sum"] / c["ratings_count"], 2) if c["ratings_count"] else None
        )
        days[day.isoformat()] = {name: figures[name] for name in FIGURES}
    return days


def _report(harness: Harness, site: Site, period: Period) -> dict[str, Any]:
    owner = Actor("operator", site.operator_ids["owner"])
    return harness.run(
        get_report(
            harness.rt,
            owner,
            site.website_id,
            first=period.first.isoformat(),
            last=period.last.isoformat(),
            tz=period.zone.key,
        )
    )


def _days(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {day["date"]: {name: day[name] for name in FIGURES} for day in report["days"]}


def _fresh(harness: Harness, site: Site, period: Period) -> list[OffsetDay]:
    """The local days a report of `period` would compute rather than read kept (and keep)."""

    async def read() -> list[OffsetDay]:
        async with harness.rt.store.long_read() as tx:
            found = await tx.reports.summary(
                site.website_id, period.start, period.end, period.offsets()
            )
            return found.fresh

    return harness.run(read())


def _kept_offsets(harness: Harness) -> set[int]:
    return {
        int(row[0]) for row in harness.rows("SELECT DISTINCT utc_offset FROM report_offset_days")
    }


def _add(harness: Harness, site: Site, rows: list[HourRow]) -> None:
    async def add() -> None:
        async with harness.rt.store.transaction() as tx:
            for row in rows:
                await tx.reports.add(site.website_id, row)

    harness.run(add())


def _some_hours(harness: Harness, site: Site) -> None:
    """Every third hour of the website from 1 to 13 March 2026 (fewer rows than `_seed`)."""
    start = datetime(2026, 3, 1, tzinfo=UTC)
    _add(
        harness,
        site,
        [
            HourRow(
                start + timedelta(hours=n),
                Dimension.WEBSITE,
                "",
                {"conversations_started": 1 + n % 3, "messages_visitor": 2},
                {"first_response": {bucket(5 + 37 * n % 900): 1}, "resolution": {n % 60: 1}},
            )
            for n in range(0, 12 * 24, 3)
        ],
    )


# Around both daylight-saving changes of every zone (the hours `_seed` fills).
FIRST, LAST = "2026-03-01", "2026-11-08"


def test_kept_days_equal_the_hours_and_follow_new_events(harness: Harness, site: Site) -> None:
    _seed(harness, site)
    reports = {}
    for zone in ZONES:
        period = _period(zone, FIRST, LAST)
        computed = {_date(day.day) for day in _fresh(harness, site, period)}
        hours = _from_hours(harness, site.website_id, period)
        # Every day at one offset is computed but those whose UTC days have no rollup row: empty.
        assert 0 < len(computed) < period.days - len(CHANGES[zone])
        for day, figures in hours.items():
            if day not in computed and day not in CHANGES[zone]:
                assert not any(figures.values()), (zone, day)
        reports[zone] = _report(harness, site, period)  # computed, then kept
        assert _days(reports[zone]) == hours, zone
        assert _fresh(harness, site, period) == []  # every day that can be is read as kept
        assert _report(harness, site, period) == reports[zone]
    assert _kept_offsets(harness) == {day_class(o) for o in set().union(*OFFSETS.values())}
    # A shorter period reads the same kept days.
    inside = _period("Asia/Kolkata", "2026-03-20", "2026-04-02")
    assert _fresh(harness, site, inside) == []
    assert _days(_report(harness, site, inside)) == _from_hours(harness, site.website_id, inside)

    # New events: around local midnights (UTC hours at the edges of the kept days), on a day
    # of change, and one taken back (a reopening).
    new = [
        HourRow(
            datetime(2026, 3, 28, 18, tzinfo=UTC),  # 23:30 in Kolkata, 19:00 in Paris
            Dimension.WEBSITE,
            "",
            {"conversations_started": 2, "messages_visitor": 3},
            {"first_response": {bucket(4000): 2}},
        ),
        HourRow(
            datetime(2026, 3, 29, 1, tzinfo=UTC),  # Paris's spring change
            Dimension.WEBSITE,
            "",
            {"conversations_resolved": 1, "ratings_count": 1, "ratings_sum": 5},
            {"resolution": {bucket(90): 1}},
        ),
        HourRow(
            datetime(2026, 10, 3, 14, tzinfo=UTC),  # 00:30 or 01:00 in Lord Howe
            Dimension.WEBSITE,
            "",
            {"conversations_resolved": -1},
            {"resolution": {bucket(7000): -1, bucket(20): 1}},
        ),
        HourRow(
            datetime(2026, 11, 1, 3, tzinfo=UTC),  # 00:30 in St John's, its autumn change
            Dimension.WEBSITE,
            "",
            {"conversations_started": 1},
            {"first_response": {3: 1}},
        ),
    ]
    _add(harness, site, new)
    for zone in ZONES:
        period = _period(zone, FIRST, LAST)
        fresh = _fresh(harness, site, period)
        touched = {period.day_of(row.hour) for row in new}
        # Only the local days that share a UTC day with a change are read again.
        assert 0 < len(fresh) <= 3 * len(new), zone
        epoch = date(1970, 1, 1)
        fresh_days = {epoch + timedelta(days=day.day) for day in fresh}
        assert all(min(abs((d - t).days) for t in touched) <= 1 for d in fresh_days), zone
        found = _report(harness, site, period)
        assert _days(found) == _from_hours(harness, site.website_id, period), zone
        assert found != reports[zone]
        assert _fresh(harness, site, period) == []


SEVEN = (
    "UTC",
    "Europe/Paris",
    "Asia/Kolkata",
    "America/New_York",
    "America/St_Johns",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
)


def _computed(harness: Harness, site: Site, period: Period) -> bytes:
    """The report's JSON computed from the rollups alone: every kept day is dropped first."""
    harness.execute("DELETE FROM report_offset_days")

    async def read() -> dict[str, Any]:
        before = period.previous()
        async with harness.rt.store.long_read() as tx:
            found = await tx.reports.summary(
                site.website_id, period.start, period.end, period.offsets()
            )
            previous = await tx.reports.summary(
                site.website_id, before.start, before.end, before.offsets(), full=False
            )
        return build_report(period, found, previous)

    return orjson.dumps(harness.run(read()))


SWEEP = {JobKind.REPORT_DAYS: KINDS[JobKind.REPORT_DAYS]}  # the other periodic kinds aside


def _pending(harness: Harness) -> int:
    return int(
        harness.scalar("SELECT count(*) FROM report_days WHERE pending AND dimension = 'website'")
        + harness.scalar("SELECT count(*) FROM report_day_histograms WHERE pending")
    )


def test_days_kept_off_the_request_path_serve_the_first_report(
    harness: Harness, site: Site
) -> None:
    """`do_keep_days` keeps the local days of every zone over the last two years: the first
    report of a year in any zone, never asked before, reads kept days only (but the days of a
    change of offset), and every report is byte for byte the one computed from the rollups
    alone, in 7 zones."""
    _seed(harness, site)
    clock = harness.clock
    clock.advance(datetime(2026, 12, 1, tzinfo=UTC) - clock.now())
    assert _pending(harness) > 0
    assert harness.run(do_keep_days(harness.rt)) > 0
    assert _pending(harness) == 0
    assert harness.run(do_keep_days(harness.rt)) == 0  # nothing changed since
    assert _kept_offsets(harness) <= set(CLASSES)
    years = {zone: _period(zone, "2026-01-01", "2026-12-31") for zone in SEVEN}
    first = {}
    for zone, period in years.items():
        assert _fresh(harness, site, period) == [], zone
        first[zone] = orjson.dumps(_report(harness, site, period))
        assert _days(orjson.loads(first[zone])) == _from_hours(harness, site.website_id, period)

    # Changes: on days kept, on a day of change, an old one; the next pass keeps them again.
    _add(
        harness,
        site,
        [
            HourRow(
                datetime(2026, 3, 29, 1, tzinfo=UTC),
                Dimension.WEBSITE,
                "",
                {"conversations_started": 1},
                {"first_response": {bucket(61): 1}},
            ),
            HourRow(
                datetime(2026, 10, 4, 15, tzinfo=UTC),
                Dimension.WEBSITE,
                "",
                {"conversations_resolved": 1},
                {"resolution": {bucket(7000): -1, bucket(300): 1}},
            ),
            HourRow(
                datetime(2025, 12, 31, 23, tzinfo=UTC),
                Dimension.WEBSITE,
                "",
                {"messages_visitor": 4},
                {},
            ),
        ],
    )
    assert _pending(harness) > 0
    off_utc = [zone for zone in SEVEN if zone != "UTC"]
    assert all(_fresh(harness, site, years[zone]) for zone in off_utc)  # stale until the pass
    assert harness.run(do_keep_days(harness.rt)) > 0
    assert _pending(harness) == 0
    again = {}
    for zone, period in years.items():
        assert _fresh(harness, site, period) == [], zone
        again[zone] = orjson.dumps(_report(harness, site, period))
        assert again[zone] != first[zone], zone
        assert _days(orjson.loads(again[zone])) == _from_hours(harness, site.website_id, period)
    for zone, period in years.items():  # what was read kept is what the rollups give
        assert again[zone] == _computed(harness, site, period), zone


def test_a_day_changed_while_its_local_days_are_kept_stays_pending(
    harness: Harness, site: Site
) -> None:
    """`clear_pending` clears a day only at the version the pass read: a change meanwhile
    leaves it pending for the next pass; a website without a zone to keep is cleared too."""
    _some_hours(harness, site)
    assert _pending(harness) > 0

    async def read() -> dict[str, list[tuple[str, int, int]]]:
        async with harness.rt.store.read() as reader:
            return await reader.reports.pending_days(100)

    async def clear(seen: list[tuple[str, int, int]]) -> None:
        async with harness.rt.store.transaction() as tx:
            await tx.reports.clear_pending(site.website_id, seen)

    pending = harness.run(read())
    assert set(pending) == {site.website_id}
    hour = datetime(2026, 3, 5, 11, tzinfo=UTC)  # a change after the read
    _add(harness, site, [HourRow(hour, Dimension.WEBSITE, "", {"chatbox_loads": 1}, {})])
    harness.run(clear(pending[site.website_id]))
    left = _pending(harness)
    kept = harness.run(do_keep_days(harness.rt))
    assert left == 1  # the day changed meanwhile (its counts' row)
    assert kept == 0  # no local day over yet (the clock is on March 1st): the day cleared
    assert _pending(harness) == 0


def test_a_kept_day_is_read_as_kept_until_its_utc_days_change(harness: Harness, site: Site) -> None:
    """Guards the test above: the kept rows are what a report reads, while their stamps hold."""
    _some_hours(harness, site)
    period = _period("Europe/Paris", "2026-03-02", "2026-03-12")
    expected = _from_hours(harness, site.website_id, period)
    assert _days(_report(harness, site, period)) == expected
    day = (date(2026, 3, 5) - date(1970, 1, 1)).days
    harness.execute(
        "UPDATE report_offset_days SET conversations_started = conversations_started + 1000"
        " WHERE day = :day",
        day=day,
    )
    altered = _days(_report(harness, site, period))
    assert altered["2026-03-05"]["conversations_started"] == (
        expected["2026-03-05"]["conversations_started"] + 1000
    )
    # A change to the UTC day it was read from (11:00 UTC on the 5th): read again, exact.
    hour = datetime(2026, 3, 5, 11, tzinfo=UTC)
    _add(harness, site, [HourRow(hour, Dimension.WEBSITE, "", {"chatbox_loads": 1}, {})])
    assert _days(_report(harness, site, period)) == _from_hours(harness, site.website_id, period)


def test_kept_days_after_an_erasure_and_after_a_rebuild(harness: Harness, site: Site) -> None:
    scene = Scene(harness, site)
    scene.play()
    periods = [_period(zone, "2026-03-01", "2026-04-10") for zone in ZONES]
    before = {}
    for period in periods:
        before[period.zone.key] = _report(harness, site, period)
        assert _days(before[period.zone.key]) == _from_hours(harness, site.website_id, period)
    # An erasure leaves the rollups as they were (P3): the kept days still hold.
    erased = harness.run(do_erase_subject(harness.rt, Actor.cli(), email="ada@mail.example"))
    assert erased["sessions"] == 1
    for period in periods:
        assert _fresh(harness, site, period) == []
        assert _report(harness, site, period) == before[period.zone.key]
    highest = harness.scalar("SELECT MAX(version) FROM report_days")
    # A rebuild counts what is left, starts the versions above, and keeps again every zone's
    # days, at the new versions: no stamp from before.
    assert harness.run(do_rebuild(harness.rt, website_id=site.website_id)) == 1
    assert harness.scalar("SELECT MIN(version) FROM report_days") > highest
    assert harness.scalar("SELECT MIN(version) FROM report_day_histograms") > highest
    stamps = [row[0] for row in harness.rows("SELECT stamp FROM report_offset_days")]
    assert stamps
    for stamp in stamps:
        versions = [int(v) for utc_day in stamp.split("/") for v in utc_day.split(".")]
        assert all(v == 0 or v > highest for v in versions), stamp
    for period in periods:
        # Read as kept from the first report after the rebuild, but today (kept once it is
        # over: it changes every few seconds).
        computed = {_date(day.day) for day in _fresh(harness, site, period)}
        today = harness.clock.now().astimezone(period.zone).date().isoformat()
        assert computed <= {today}
        after = _report(harness, site, period)
        assert _days(after) == _from_hours(harness, site.website_id, period)
        assert after["totals"]["conversations_started"] == 3  # Ada's conversation is gone
        assert _fresh(harness, site, period) == []
        assert _report(harness, site, period) == after


# Zones at every kind of offset: whole hours east and west (Etc/GMT-N is UTC+N), half and
# quarter hours, and the ends of the range (UTC+14, UTC-12, UTC+13:45 in Chatham's summer).
ODD_ZONES = (
    *(f"Etc/GMT-{n}" for n in range(1, 15)),
    *(f"Etc/GMT+{n}" for n in range(1, 13)),
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Yangon",
    "Pacific/Marquesas",
    "Pacific/Chatham",
    "Australia/Eucla",
)


def test_every_zone_reads_the_days_kept_at_a_whole_hour_offset(
    harness: Harness, site: Site
) -> None:
    """A zone's days are those of its offset rounded up to the hour (`day_class`): after one
    `do_keep_days`, a report in any of these zones reads kept days only, and equals the hours."""
    _some_hours(harness, site)
    harness.clock.advance(datetime(2026, 3, 20, tzinfo=UTC) - harness.clock.now())
    assert harness.run(do_keep_days(harness.rt)) > 0
    assert _kept_offsets(harness) <= set(CLASSES)
    for zone in ODD_ZONES:
        period = _period(zone, "2026-03-01", "2026-03-14")
        assert _fresh(harness, site, period) == [], zone
        assert _days(_report(harness, site, period)) == _from_hours(
            harness, site.website_id, period
        ), zone


def test_a_local_day_that_ends_without_a_change_is_kept_within_the_hour(
    harness: Harness, site: Site
) -> None:
    """A local day is kept once it is over; it ends on the hour whether or not anything
    changes, so a job on the hour (`reports.days`) keeps the days of the websites active lately
    that ended (tests/test_report_days_job.py: one node of all runs it)."""
    _some_hours(harness, site)  # 1 to 13 March
    tokyo = _period("Asia/Tokyo", "2026-03-13", "2026-03-13")  # ends 15:00 UTC on the 13th
    harness.clock.advance(datetime(2026, 3, 13, 14, 30, tzinfo=UTC) - harness.clock.now())
    harness.run(do_schedule_periodic(harness.rt, SWEEP))
    harness.run(do_keep_days(harness.rt))
    assert _pending(harness) == 0
    assert [_date(day.day) for day in _fresh(harness, site, tokyo)] == ["2026-03-13"]
    harness.clock.advance(timedelta(minutes=20))  # 14:50: the same hour, not over
    assert harness.run(do_keep_days(harness.rt)) == 0
    assert harness.run(do_run_due_jobs(harness.rt, SWEEP)) == 1  # the catch-up after the start
    assert [_date(day.day) for day in _fresh(harness, site, tokyo)] == ["2026-03-13"]
    assert harness.run(do_run_due_jobs(harness.rt, SWEEP)) == 0  # then on the hour
    harness.clock.advance(timedelta(minutes=15))  # 15:05: over, and nothing changed
    assert harness.run(do_keep_days(harness.rt)) == 0  # not the changed days' pass
    assert harness.run(do_run_due_jobs(harness.rt, SWEEP)) == 1
    assert _fresh(harness, site, tokyo) == []
    assert harness.run(do_run_due_jobs(harness.rt, SWEEP)) == 0  # once an hour
    assert _days(_report(harness, site, tokyo)) == _from_hours(harness, site.website_id, tokyo)


def test_a_change_today_is_kept_by_the_hourly_pass_not_at_every_change(
    harness: Harness, site: Site
) -> None:
    """Today changes with every event: the days over that hold its first hours (New York's
    yesterday ends at 05:00 UTC today) are not computed again at each pass but once an hour, and
    a report reads them from their hours meanwhile, exact."""
    _some_hours(harness, site)  # 1 to 13 March
    york = _period("America/New_York", "2026-03-10", "2026-03-12")
    harness.clock.advance(datetime(2026, 3, 13, 12, 10, tzinfo=UTC) - harness.clock.now())
    harness.run(do_schedule_periodic(harness.rt, SWEEP))  # due at 12:11, a minute after start
    assert harness.run(do_keep_days(harness.rt)) > 0
    harness.run(do_keep_ended_days(harness.rt))  # as the job did at 12:00
    assert _fresh(harness, site, york) == []
    hour = datetime(2026, 3, 13, 12, tzinfo=UTC)  # an event now
    _add(harness, site, [HourRow(hour, Dimension.WEBSITE, "", {"messages_visitor": 1}, {})])
    assert harness.run(do_keep_days(harness.rt)) == 0  # the same hour: nothing computed
    assert _pending(harness) == 0
    assert [_date(day.day) for day in _fresh(harness, site, york)] == ["2026-03-12"]
    assert _days(_report(harness, site, york)) == _from_hours(harness, site.website_id, york)
    harness.execute("DELETE FROM report_offset_days WHERE day = :day", day=_day("2026-03-12"))
    harness.clock.advance(timedelta(hours=1))  # the next hour's job keeps it again
    assert harness.run(do_keep_days(harness.rt)) == 0
    assert harness.run(do_run_due_jobs(harness.rt, SWEEP)) == 1
    assert _fresh(harness, site, york) == []


def _day(text: str) -> int:
    return (date.fromisoformat(text) - date(1970, 1, 1)).days


def test_months_less_their_days_outside_give_the_agents_and_totals_of_the_hours(
    harness: Harness, site: Site
) -> None:
    """Per agent and over the period, a month at an end is read whole and its days outside the
    period taken away (store/repositories/report_reads.py `_spans`): the hours' figures."""
    added = _seed(harness, site)
    for zone, first, last in (
        ("Europe/Paris", "2026-03-06", "2026-10-29"),  # March and October less 5 and 3 days
        ("Asia/Kolkata", "2026-03-05", "2026-10-28"),
        ("UTC", "2026-09-02", "2026-09-29"),  # no whole month: September less 2 days
    ):
        period = _period(zone, first, last)
        found = _report(harness, site, period)
        assert _figures(found) == _expected(added, period), zone
        started = 0
        hists: dict[str, Counter[int]] = {metric: Counter() for metric in DURATIONS}
        for _, row in added:
            if row.dimension is Dimension.WEBSITE and period.start <= row.hour < period.end:
                started += row.counts.get("conversations_started", 0)
                for metric, hist in row.durations.items():
                    hists[metric].update(hist)
        totals = found["totals"]
        assert totals["conversations_started"] == started > 0
        for metric in DURATIONS:
            assert totals[f"{metric}_median"] == percentile(hists[metric], 50), zone
            assert totals[f"{metric}_p90"] == percentile(hists[metric], 90), zone


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 1, tzinfo=UTC))
