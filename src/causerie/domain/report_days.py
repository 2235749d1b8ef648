"""Local days kept per UTC offset (docs/reports.md "Local days kept per offset").

A local day whose 24 hours all have one UTC offset is the same day in every zone at that offset
then: Europe/Paris in winter and Africa/Lagos share their days, as do Paris in summer and
Africa/Johannesburg. Such a day's figures (counts, medians, 90th percentiles) are kept once
computed, keyed by (offset, local day), with the stamp of the UTC days they were read from: the
version of each of their rollup rows, which every change to them raises and a rebuild starts
above the highest before. A kept day whose stamp differs from its UTC days' stamp now is stale
and is read again from the hours. A day with a change of offset (23 or 25 hours) is never kept.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass

DAY = 86_400
# A website keeps the days of this many offsets at most: a report in a further one clears the
# others (a zone uses one or two a year; a website's agents, a few zones).
MAX_OFFSETS = 8


@dataclass(frozen=True)
class OffsetDay:
    """A local day at one UTC offset throughout, as a report computed it."""

    offset: int  # seconds east of UTC
    day: int  # days since 1970-01-01, local
    stamp: str  # `day_stamp` of the UTC days it was read from
    counts: dict[str, int]
    ranks: dict[str, tuple[int | None, int | None]]  # metric -> (median, 90th percentile)


@dataclass(frozen=True)
class FixedDay:
    """A local day of a period whose hours are the 24 from `first` (epoch) at `offset`."""

    offset: int
    first: int

    def utc_days(self) -> tuple[int, ...]:
        """The epochs of the UTC days its hours lie in (one or two)."""
        a, b = self.first - self.first % DAY, (self.first + DAY - 3600) // DAY * DAY
        return (a,) if a == b else (a, b)


def fixed_days(start: int, end: int, offsets: list[tuple[int, int]]) -> dict[int, FixedDay | None]:
    """Each local day of the hours [start, end) (epochs; `Period.offsets()`) and, when its hours
    are 24 consecutive ones at one offset, that offset and its first hour; None for a day with a
    change of offset, or cut by the period's ends."""
    untils = [until for until, _ in offsets]
    shifts = [offset for _, offset in offsets]

    def day_of(hour: int) -> int:  # as `hour_days`: the local day of the hour's last second
        last = hour + 3599
        return (last + shifts[min(bisect_right(untils, last), len(shifts) - 1)]) // DAY

    found: dict[int, FixedDay | None] = dict.fromkeys(range(day_of(start), day_of(end - 3600) + 1))
    low = start + 3599  # the hours' last seconds: each piece of `offsets` holds [low, until)
    for n, (until, offset) in enumerate(offsets):
        high = min(until, end + 3599) if n < len(offsets) - 1 else end + 3599
        for day in range((low + offset) // DAY, (high - 1 + offset) // DAY + 1):
            first = -(-(day * DAY - offset - 3599) // 3600) * 3600  # the first hour ending in it
            if first + 3599 < low or first + DAY - 1 >= high:
                continue  # some of its hours lie in another piece, or out of the period
            if first - 1 < low and first - 3600 >= start and day_of(first - 3600) == day:
                continue  # the hour before, at another offset, ends in it too
            if first + DAY - 1 + 3600 >= high and first + DAY < end and day_of(first + DAY) == day:
                continue  # the hour after, likewise
            found[day] = FixedDay(offset, first)
        low = max(low, high)
    return found


def day_stamp(versions: Mapping[str, int]) -> str:
    """A UTC day's stamp: the versions of its counts' row (`counts`) and of its histograms' rows
    (by metric), 0 for a row that does not exist."""
    return f"{versions.get('counts', 0)}.{versions.get('first_response', 0)}" + (
        f".{versions.get('resolution', 0)}"
    )


def stamp_of(day: FixedDay, stamps: Mapping[int, str]) -> str:
    """A local day's stamp: its UTC days' stamps (`day_stamp`), in order."""
    return "/".join(stamps.get(u, "0.0.0") for u in day.utc_days())
