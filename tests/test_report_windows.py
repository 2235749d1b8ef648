"""Every zone's local days at once (domain/report_windows.py): the whole-hour offsets that stand
for every zone, and the sliding 24 hours, against sums made the plain way."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from causerie.domain.report_days import DAY, hour_days
from causerie.domain.report_windows import (
    CLASSES,
    HOUR,
    HourFigures,
    classes_from,
    day_class,
    windows,
)
from causerie.domain.reports import COUNTS, DURATIONS, hour_of, percentiles

# Far past any hour below: one offset throughout.
_UNTIL = 4_000_000_000


@given(
    offset=st.integers(-12 * 4, 14 * 4).map(lambda q: q * 900),  # every quarter hour
    hour=st.integers(1_700_000_000 // HOUR, 1_800_000_000 // HOUR).map(lambda h: h * HOUR),
)
def test_a_zone_has_the_days_of_its_offset_rounded_up_to_the_hour(offset: int, hour: int) -> None:
    day_class_of = hour_days([(_UNTIL, day_class(offset))])
    assert hour_days([(_UNTIL, offset)])(hour) == day_class_of(hour)
    assert day_class(offset) in CLASSES
    assert day_class(offset) % HOUR == 0 and 0 <= day_class(offset) - offset < HOUR


def test_each_hour_begins_the_local_day_of_one_or_two_offsets() -> None:
    start = 1_767_225_600  # 2026-01-01 00:00 UTC
    seen: list[int] = []
    for hour in range(start, start + DAY, HOUR):
        found = classes_from(hour)
        assert 1 <= len(found) <= 2
        for offset in found:
            day = hour_days([(_UNTIL, offset)])
            assert day(hour) == (hour + offset) // DAY
            assert day(hour - HOUR) == day(hour) - 1  # the hour before is the day before
        seen += found
    assert sorted(seen) == list(CLASSES)


def _hours(rng: random.Random, start: int, count: int) -> dict[int, HourFigures]:
    hours: dict[int, HourFigures] = {}
    for n in range(count):
        if rng.random() < 0.3:
            continue  # an hour with nothing
        hists = {
            metric: {rng.choice((3, 40, 41, 200, 900)): rng.randint(1, 3)}
            for metric in DURATIONS
            if rng.random() < 0.6
        }
        if rng.random() < 0.1:  # an entry taken back (a reopening)
            hists.setdefault("resolution", {})[900] = -1
        counts = tuple(rng.randint(0, 4) for _ in COUNTS)
        hours[start + n * HOUR] = HourFigures(counts, hists)
    return hours


def test_sliding_24_hours_equals_adding_them() -> None:
    rng = random.Random(7)
    start = 1_767_225_600
    hours = _hours(rng, start, 24 * 6)
    first, last = start + 5 * HOUR, start + 4 * DAY
    wanted = {first, first + HOUR, start + 2 * DAY, last}
    found = {day.first: day for day in windows(hours, first, last, wanted)}
    assert set(found) == wanted
    every = list(windows(hours, first, last))
    assert [day.first for day in every] == list(range(first, last + 1, HOUR))
    for day in every:
        counts: Counter[str] = Counter()
        hists: dict[str, Counter[int]] = {metric: Counter() for metric in DURATIONS}
        for hour in range(day.first, day.first + DAY, HOUR):
            figures = hours.get(hour)
            if figures is None:
                continue
            counts.update(dict(zip(COUNTS, figures.counts, strict=True)))
            for metric, hist in figures.hists.items():
                hists[metric].update(hist)
        assert day.counts == {name: counts[name] for name in COUNTS}
        for metric in DURATIONS:
            assert day.ranks[metric] == percentiles(hists[metric])
        if day.first in wanted:
            assert found[day.first] == day


@given(
    at=st.datetimes(timezones=st.sampled_from([UTC, ZoneInfo("Europe/Paris"), ZoneInfo("UTC")])),
)
def test_the_hour_of_a_time_is_its_utc_hour_as_replace_gives_it(at: datetime) -> None:
    hour = hour_of(at)
    assert hour == at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    assert hour.tzinfo is UTC and hour.fold == 0
