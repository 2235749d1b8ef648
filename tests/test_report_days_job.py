"""The reports' local days that end on the hour are kept by one node of all: the periodic job
`reports.days`, on the hour (docs/reports.md "Every zone kept current"). Each node ran that pass
itself before, reading two days of every active website every hour. Two runtimes sharing one
PostgreSQL database, the clock moved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from causerie.actions.jobs import do_run_due_jobs, do_schedule_periodic, get_jobs
from causerie.actions.reports import do_keep_days
from causerie.clock import ManualClock
from causerie.domain.reports import Dimension, HourRow
from causerie.settings import Settings
from tests.conftest import Harness, Site
from tests.test_reports_offsets import SWEEP, _add


def _kept(harness: Harness) -> int:
    return int(harness.scalar("SELECT count(*) FROM report_offset_days"))


def _run_at(harness: Harness) -> list[datetime]:
    return [job.run_at for job in harness.run(get_jobs(harness.rt)) if job.kind in SWEEP]


def _hours_to_ten_on_the_5th(harness: Harness, site: Site, clock: ManualClock) -> None:
    """It is 10:30 on 5 March 2026 (UTC), and every hour since the 4th began had a load."""
    clock.advance(datetime(2026, 3, 5, 10, 30, tzinfo=UTC) - clock.now())
    start = datetime(2026, 3, 4, tzinfo=UTC)
    rows = [
        HourRow(start + timedelta(hours=n), Dimension.WEBSITE, "", {"chatbox_loads": 1})
        for n in range(34)  # to 10:00 on the 5th
    ]
    _add(harness, site, rows)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_days_ended_on_the_hour_are_kept_by_one_node_per_hour(
    harness: Harness, site: Site, settings: Settings, clock: ManualClock
) -> None:
    other = Harness(settings, clock)  # a second node on the same database
    try:
        nodes = (harness, other)
        _hours_to_ten_on_the_5th(harness, site, clock)
        for node in nodes:  # both nodes start: one job, due a minute after the start
            node.run(do_schedule_periodic(node.rt, SWEEP))
        assert _run_at(harness) == [datetime(2026, 3, 5, 10, 31, tzinfo=UTC)]
        for node in nodes:  # the changed days, those over by 10:30, are kept on their own
            node.run(do_keep_days(node.rt))
        before = _kept(harness)
        assert before > 0
        clock.advance(timedelta(minutes=1))  # the catch-up after the start, by one node
        assert [node.run(do_run_due_jobs(node.rt, SWEEP)) for node in nodes] == [1, 0]
        assert _kept(harness) == before  # nothing ended since the pass
        assert _run_at(harness) == [datetime(2026, 3, 5, 11, tzinfo=UTC)]  # then on the hour

        clock.advance(timedelta(minutes=29, seconds=1))  # the 4th at UTC-11 ended at 11:00
        assert [node.run(do_keep_days(node.rt)) for node in nodes] == [0, 0]
        assert _kept(harness) == before  # neither node keeps it in its own loop any more
        assert [node.run(do_run_due_jobs(node.rt, SWEEP)) for node in nodes] == [1, 0]
        after = _kept(harness)
        assert after > before
        assert _run_at(harness) == [datetime(2026, 3, 5, 12, tzinfo=UTC)]

        clock.advance(timedelta(minutes=59, seconds=59))  # 12:00:00: the next hour
        assert [node.run(do_run_due_jobs(node.rt, SWEEP)) for node in reversed(nodes)] == [1, 0]
        assert _kept(harness) > after  # the 4th at UTC-12 ended at 12:00
        assert _run_at(harness) == [datetime(2026, 3, 5, 13, tzinfo=UTC)]
        assert [node.run(do_run_due_jobs(node.rt, SWEEP)) for node in nodes] == [0, 0]
    finally:
        other.close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_days_that_ended_before_the_first_start_are_kept_a_minute_after_it(
    harness: Harness, site: Site, settings: Settings, clock: ManualClock
) -> None:
    """Days that ended while no node ran the job (its first start: an upgrade, a new node on
    an older database) are kept a minute after the start, by one node; they waited for the
    next hour, and a report read them from their hours meanwhile."""
    other = Harness(settings, clock)  # a second node on the same database
    try:
        nodes = (harness, other)
        _hours_to_ten_on_the_5th(harness, site, clock)
        harness.run(do_keep_days(harness.rt))  # the changed days, those over by 10:30
        before = _kept(harness)
        assert before > 0

        clock.advance(timedelta(hours=1))  # 11:30: the 4th at UTC-11 ended at 11:00, unkept
        for node in nodes:  # both nodes start
            node.run(do_schedule_periodic(node.rt, SWEEP))
        assert _run_at(harness) == [datetime(2026, 3, 5, 11, 31, tzinfo=UTC)]
        assert [node.run(do_keep_days(node.rt)) for node in nodes] == [0, 0]  # nothing changed
        clock.advance(timedelta(minutes=1))
        assert [node.run(do_run_due_jobs(node.rt, SWEEP)) for node in nodes] == [1, 0]
        assert _kept(harness) > before
        assert _run_at(harness) == [datetime(2026, 3, 5, 12, tzinfo=UTC)]
    finally:
        other.close()
