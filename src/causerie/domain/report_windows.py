"""Every zone's local days at once (docs/reports.md "Speed"): the local days of all whole-hour
offsets (`CLASSES`), computed in one pass over a website's hours.

A local day at one offset throughout is 24 consecutive UTC hours, and its boundary is the UTC
hour boundary at or before local midnight (docs/reports.md "Days in any time zone"). So the 24
hours from any UTC hour are the local day of the whole-hour offsets that put midnight there, and
every zone's fixed days are those of one of these offsets (`day_class`). Sliding 24 hours along
the website's hours, one hour in and one out at each step, gives every zone's days for the cost
of reading the hours once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from causerie.domain.report_days import DAY
from causerie.domain.reports import COUNTS, DURATIONS, percentiles

HOUR = 3_600
# The whole-hour offsets whose days are kept for every website: from UTC-12 to UTC+14, the
# offsets of today's zones rounded up to the hour (UTC+5:45 keeps the days of UTC+6).
CLASSES = tuple(range(-12 * HOUR, 14 * HOUR + 1, HOUR))


def day_class(offset: int) -> int:
    """The whole-hour offset whose local days are those of `offset` (seconds east of UTC), hour
    for hour and date for date: `offset` rounded up to the hour."""
    return -(-offset // HOUR) * HOUR


def classes_from(hour: int) -> list[int]:
    """The offsets of `CLASSES` whose local days begin at the UTC hour `hour` (an epoch)."""
    return [offset for offset in CLASSES if (hour + offset) % DAY == 0]


@dataclass
class HourFigures:
    """A website's figures of one UTC hour: its counts (in `COUNTS` order) and histograms."""

    counts: tuple[int, ...] = (0,) * len(COUNTS)
    hists: dict[str, dict[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class WindowDay:
    """The figures of the 24 hours from `first` (an epoch on the hour)."""

    first: int
    counts: dict[str, int]
    ranks: dict[str, tuple[int | None, int | None]]  # metric -> (median, 90th percentile)


_EMPTY = HourFigures()


def windows(
    hours: Mapping[int, HourFigures], first: int, last: int, wanted: set[int] | None = None
) -> Iterator[WindowDay]:
    """The figures of the 24 hours from each UTC hour in [first, last] (epochs on the hour;
    `wanted`: only those starting hours, the others slid over), from `hours` (an hour missing is
    empty). Each step adds the hour that enters and takes away the one that leaves."""
    sums = [0] * len(COUNTS)
    hists: dict[str, dict[int, int]] = {metric: {} for metric in DURATIONS}

    def add(figures: HourFigures, sign: int) -> None:
        for i, n in enumerate(figures.counts):
            sums[i] += sign * n
        for metric, hist in figures.hists.items():
            into = hists[metric]
            for bucket, n in hist.items():
                left = into.get(bucket, 0) + sign * n
                if left:
                    into[bucket] = left
                else:
                    into.pop(bucket, None)

    for hour in range(first, first + DAY, HOUR):
        add(hours.get(hour, _EMPTY), 1)
    for start in range(first, last + 1, HOUR):
        if wanted is None or start in wanted:
            yield WindowDay(
                start,
                dict(zip(COUNTS, sums, strict=True)),
                {metric: percentiles(hists[metric]) for metric in DURATIONS},
            )
        add(hours.get(start, _EMPTY), -1)
        add(hours.get(start + DAY, _EMPTY), 1)
