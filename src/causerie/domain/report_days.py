"""Local days kept per UTC offset (docs/reports.md "How the rollups are kept", "Speed").

A local day whose 24 hours all have one UTC offset is the same day in every zone at that offset
then: Europe/Paris in winter and Africa/Lagos share their days, as do Paris in summer and
Africa/Johannesburg. Such a day's figures (counts, medians, 90th percentiles) are kept once
computed, keyed by (offset, local day) at the whole-hour offset that has the same days
(report_windows.py `day_class`), with the stamp of the UTC days they were read from: the
version of each of their rollup rows, which every change to them raises and a rebuild starts
above the highest before. A kept day whose stamp differs from its UTC days' stamp now is stale
and is read again from the hours. A day with a change of offset (23 or 25 hours) is never kept.

Also here: how hours map to local days (`hour_days`), and the day plan that reads a period's
local days from UTC days and the few hours that move (`plan_days`), for days not kept.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

DAY = 86_400


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


def hour_days(offsets: list[tuple[int, int]]) -> Callable[[int], int]:
    """The local day number (days since 1970-01-01) of an hour given by its epoch: the day of its
    last second at the zone's offset then (`Period.offsets()`), as `Period.day_of` says."""
    untils = [until for until, _ in offsets]
    shifts = [offset for _, offset in offsets]

    def day(epoch: int) -> int:
        last = epoch + 3599
        return (last + shifts[min(bisect_right(untils, last), len(shifts) - 1)]) // DAY

    return day


@dataclass(frozen=True)
class DayPlan:
    """How to read a period's local days from UTC days: each UTC day (its epoch) counts for the
    local day that holds most of it (`days`), and each hour whose local day differs is moved:
    taken from the day its UTC day went to and given to its own (`hours`: epoch -> [(local day,
    +1 or -1)]). Exact because both layers hold the same sums; worth it when few hours move."""

    days: dict[int, int]
    hours: dict[int, list[tuple[int, int]]]


def plan_days(start: datetime, end: datetime, offsets: list[tuple[int, int]]) -> DayPlan:
    first, last = int(start.timestamp()), int(end.timestamp())
    day_of = hour_days(offsets)
    days: dict[int, int] = {}
    for u in range(first - first % DAY, last, DAY):
        middle = u + 11 * 3600  # the hour 11:00-12:00 UTC
        if first <= middle < last:
            days[u] = day_of(middle)
    hours: dict[int, list[tuple[int, int]]] = {}
    low = min([first, *days])
    high = max([last, *(u + DAY for u in days)])
    for h in _hours_that_may_move(low, high, days, offsets):
        own = day_of(h) if first <= h < last else None
        via = days.get(h - h % DAY)
        if own != via:
            hours[h] = [(d, sign) for d, sign in ((via, -1), (own, 1)) if d is not None]
    return DayPlan(days, hours)


def _hours_that_may_move(
    low: int, high: int, days: dict[int, int], offsets: list[tuple[int, int]]
) -> Iterable[int]:
    """The hours of [low, high) whose local day may differ from their UTC day's: all of them,
    unless every offset is within 10 hours of UTC; then a UTC day's middle hours stay in its
    local day (that of its 11:00-12:00 hour), and only those within the largest offset and an
    hour of its ends may move. Hours outside the planned UTC days (contiguous) all may."""
    reach = max(abs(offset) for _, offset in offsets) + 3600
    if reach > 11 * 3600 or not days:
        return range(low, high, 3600)
    reach = -(-reach // 3600) * 3600
    begin, stop = min(days), max(days) + DAY
    candidates = [*range(low, begin, 3600), *range(stop, high, 3600)]
    for u in days:
        candidates += range(u, u + min(reach, DAY // 2), 3600)
        candidates += range(u + max(DAY - reach, DAY // 2), u + DAY, 3600)
    return candidates
