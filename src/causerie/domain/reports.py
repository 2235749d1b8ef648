"""Reports (docs/reports.md): figures per website, day and agent, summed from hourly rollups.

Rollups are aggregates only (P3): an hour (and a UTC day) of a website (or of one agent, label or
team on it), its counts and two histograms of durations. Nothing in them names or holds a
visitor. Days are local days of any IANA zone, made of whole UTC hours: an hour belongs to the
local day in which it ends, so daylight-saving days have 23 or 25 hours, and in zones off by half
or quarter hours a day's boundary moves to the UTC hour boundary just before local midnight
(23:30 in Kolkata).

Durations are kept per hour (and UTC day) as histograms of buckets exact up to 127 s and within
1/64 (1.6%) above; a median or 90th percentile is the nearest-rank value of the merged histogram.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from itertools import accumulate
from operator import add
from typing import Any
from zoneinfo import ZoneInfo

from causerie.domain.report_days import OffsetDay

# The counters of a rollup row; `ratings_sum` makes `ratings_average`.
COUNTS = (
    "chatbox_loads",
    "sessions_created",
    "conversations_started",
    "conversations_resolved",
    "messages_visitor",
    "messages_operator",
    "ratings_count",
    "ratings_sum",
)
# The histograms of a rollup row (seconds): the first response is counted in the hour the
# conversation started, the resolution in the hour it was resolved.
DURATIONS = ("first_response", "resolution")

# The figures of the contract (SPEC.md "Reports"), in the CSV's column order.
FIGURES = (
    "chatbox_loads",
    "sessions_created",
    "conversations_started",
    "conversations_resolved",
    "messages_visitor",
    "messages_operator",
    "first_response_median",
    "first_response_p90",
    "resolution_median",
    "resolution_p90",
    "ratings_count",
    "ratings_average",
)

MAX_DAYS = 366
HOUR = timedelta(hours=1)
_LAST_SECOND = timedelta(seconds=3599)
_EXACT_BITS = 7  # buckets exact below 2**7 s, then 6 bits of mantissa


class Dimension(StrEnum):
    """What a rollup row is about: the whole website, or one agent, label or team of it."""

    WEBSITE = "website"
    OPERATOR = "operator"
    LABEL = "label"  # fed by the labels' feature when a conversation carries labels
    TEAM = "team"  # fed by the teams' feature


Histogram = dict[int, int]  # bucket (seconds) -> how many


@dataclass(frozen=True)
class HourRow:
    """One rollup row: an hour (UTC, on the hour) of a website's dimension and key."""

    hour: datetime
    dimension: Dimension
    key: str  # "" for the website; the operator's, label's or team's id otherwise
    counts: dict[str, int] = field(default_factory=dict)
    durations: dict[str, Histogram] = field(default_factory=dict)


@dataclass(frozen=True)
class ConversationFacts:
    """What a conversation's reports need to know of it, kept beside it (and gone with it)."""

    conversation_id: str
    website_id: str
    started_at: datetime
    visitor_started: bool  # only a conversation the visitor opened is answered
    first_response_at: datetime | None = None
    first_responder_id: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None

    @property
    def first_response(self) -> int | None:
        if self.first_response_at is None:
            return None
        return seconds_between(self.started_at, self.first_response_at)

    @property
    def resolution(self) -> int | None:
        """Seconds from start to resolution, only for an answered conversation."""
        if self.resolved_at is None or self.first_response_at is None:
            return None
        return seconds_between(self.started_at, self.resolved_at)


def seconds_between(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds()))


def hour_of(at: datetime) -> datetime:
    """The UTC hour `at` falls in. Built from its fields: Python 3.11's `datetime.replace` with
    keywords costs two and a half times as much, on every chatbox load (docs/performance.md,
    "renewal5")."""
    if at.tzinfo is not UTC:
        at = at.astimezone(UTC)
    return datetime(at.year, at.month, at.day, at.hour, 0, 0, 0, UTC)


def utc_day(at: datetime) -> datetime:
    """The UTC midnight starting the day of `at`: the key of the daily layer."""
    return at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def utc_month(at: datetime) -> datetime:
    """The UTC midnight starting the month of `at`: the key of the monthly layer."""
    return utc_day(at).replace(day=1)


def bucket(seconds: int) -> int:
    """The histogram bucket of a duration: itself below 128 s, else its 7 leading bits."""
    shift = max(0, seconds.bit_length() - _EXACT_BITS)
    return (seconds >> shift) << shift


def percentile(hist: Mapping[int, int], percent: int) -> int | None:
    """The nearest-rank percentile: the smallest bucket with at least `percent`% of the
    durations at or below it; None when there are none."""
    total = sum(count for count in hist.values() if count > 0)
    if total == 0:
        return None
    rank = max(1, -(-percent * total // 100))
    seen = 0
    for key in sorted(hist):
        seen += max(0, hist[key])
        if seen >= rank:
            return key
    return max(hist)


def percentiles(hist: Mapping[int, int]) -> tuple[int | None, int | None]:
    """The median and 90th percentile of a histogram, as `percentile` gives them, in one pass."""
    keys = sorted(hist)
    counts = list(map(hist.__getitem__, keys))
    if counts and min(counts) <= 0:  # rare: keep the buckets that count (none are negative)
        keys = [key for key, count in zip(keys, counts, strict=True) if count > 0]
        counts = [count for count in counts if count > 0]
    if not keys:
        return None, None
    cumulative = list(accumulate(counts))
    total = cumulative[-1]
    median = keys[bisect_left(cumulative, max(1, -(-50 * total // 100)))]
    return median, keys[bisect_left(cumulative, max(1, -(-90 * total // 100)))]


@dataclass(frozen=True)
class Period:
    """Local days `first` to `last` (inclusive) in `zone`, and the UTC hours that make them."""

    first: date
    last: date
    zone: ZoneInfo

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        return _day_start(self.first, self.zone)

    @property
    def end(self) -> datetime:
        return _day_start(self.last + timedelta(days=1), self.zone)

    def previous(self) -> Period:
        """The period of as many days just before this one (the comparison)."""
        return Period(
            self.first - timedelta(days=self.days), self.first - timedelta(days=1), self.zone
        )

    def day_of(self, hour: datetime) -> date:
        return (hour + _LAST_SECOND).astimezone(self.zone).date()

    def offsets(self) -> list[tuple[int, int]]:
        """The zone's UTC offsets over the period's hours, as (until, offset) in epoch seconds:
        an hour's instant `t` (its last second) has the offset of the first pair with
        `t < until`; the last pair's `until` is past the period. So a database adds the offset
        and divides by a day to get an hour's local day (`Summary`), with no zone table."""
        pairs: list[tuple[int, int]] = []
        t = int(self.start.timestamp()) + 3599
        last = int(self.end.timestamp()) + 3599
        offset = _offset(t, self.zone)
        while t < last:  # a day at a time; back an hour at a time over a change
            step = min(86_400, last - t)
            ahead = _offset(t + step, self.zone) if t + step < last else offset
            if ahead != offset:
                while _offset(t + 3600, self.zone) == offset:
                    t += 3600
                pairs.append((t + 3600, offset))
                offset = _offset(t + 3600, self.zone)
                t += 3600
                continue
            t += step
        pairs.append((last + 86_400, offset))
        return pairs


def _offset(epoch: int, zone: ZoneInfo) -> int:
    offset = datetime.fromtimestamp(epoch, zone).utcoffset()
    return int(offset.total_seconds()) if offset else 0


EPOCH_DAY = date(1970, 1, 1)
_DAY = 86_400


def week_of_days(
    days: Iterable[tuple[int, list[int]]], start: int, end: int, offsets: list[tuple[int, int]]
) -> dict[int, int]:
    """Conversations started per local hour of the week (0: Monday 00:00) from UTC days' hourly
    counts (`days`: (the day's epoch, 24 counts)), counting the hours in [start, end) (epochs).
    An hour is placed at its middle in local time (the zone's offset at its last second,
    `Period.offsets()`), so a half-hour zone moves it by a whole hour, as docs/reports.md says.
    A whole day at one offset is added at once (its 24 hours are consecutive in the week)."""
    untils = [until for until, _ in offsets]
    shifts = [offset for _, offset in offsets]

    def shift(hour: int) -> int:  # whole hours to add to a UTC hour (its epoch) for local time
        at = min(bisect_right(untils, hour + 3599), len(shifts) - 1)
        return (1800 + shifts[at]) // 3600

    whole: dict[int, list[int]] = {}  # a day's first local hour of the week -> summed counts
    week: dict[int, int] = {}
    for day, counts in days:
        first, k = day // 3600, shift(day)
        if start <= day and day + _DAY <= end and shift(day + _DAY - 3600) == k:
            at = (first + k + 72) % 168
            kept = whole.get(at)
            whole[at] = counts if kept is None else list(map(add, kept, counts))
            continue
        for i, n in enumerate(counts):
            hour = day + i * 3600
            if n and start <= hour < end:
                at = (first + i + shift(hour) + 72) % 168
                week[at] = week.get(at, 0) + n
    for at, counts in whole.items():
        for i, n in enumerate(counts):
            if n:
                week[(at + i) % 168] = week.get((at + i) % 168, 0) + n
    return week


@dataclass
class Summary:
    """A period's rollups summed by the database: counts per local day (days since 1970-01-01)
    and per agent, conversations started per local hour of the week (0: Monday 00:00), and the
    median and 90th percentile of each histogram per day (`"d" + day`), per agent (`"a" + id`)
    and over the whole period (`"t"`); per label or team when asked (`breakdown`, `"b" + id`)."""

    days: dict[int, dict[str, int]] = field(default_factory=dict)
    agents: dict[str, dict[str, int]] = field(default_factory=dict)
    breakdown: dict[str, dict[str, int]] = field(default_factory=dict)
    week: dict[int, int] = field(default_factory=dict)
    percentiles: dict[tuple[str, str], tuple[int | None, int | None]] = field(default_factory=dict)
    totals: dict[str, int] | None = None  # the period's counts, when the days were not read
    fresh: list[OffsetDay] = field(default_factory=list)  # days to keep (domain/report_days.py)


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first UTC hour of a local day: the hour in which local midnight falls."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
    return hour_of(midnight)


def _figures(
    counts: Mapping[str, int], pct: Mapping[tuple[str, str], Any], group: str
) -> dict[str, Any]:
    """A row's figures in `FIGURES`' order (built at once: a year's report has ~400 rows)."""
    get = counts.get
    loads, sessions, started, resolved, visitor, operator, rated, rating_sum = map(
        int, [get(name) or 0 for name in COUNTS]
    )
    first = pct.get((group, "first_response"), _NO_RANKS)
    resolution = pct.get((group, "resolution"), _NO_RANKS)
    return {
        "chatbox_loads": loads,
        "sessions_created": sessions,
        "conversations_started": started,
        "conversations_resolved": resolved,
        "messages_visitor": visitor,
        "messages_operator": operator,
        "first_response_median": first[0],
        "first_response_p90": first[1],
        "resolution_median": resolution[0],
        "resolution_p90": resolution[1],
        "ratings_count": rated,
        "ratings_average": round(rating_sum / rated, 2) if rated else None,
    }


_NO_RANKS = (None, None)


def _sum(rows: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total = dict.fromkeys(COUNTS, 0)
    for row in rows:
        for name in COUNTS:
            total[name] += int(row.get(name, 0) or 0)
    return total


def _totals(summary: Summary) -> dict[str, int]:
    return summary.totals if summary.totals is not None else _sum(summary.days.values())


# A breakdown asked for: its list's name in a report, and the name of its rows' key.
BREAKDOWNS = {Dimension.LABEL: ("labels", "label_id"), Dimension.TEAM: ("teams", "team_id")}


def build_report(
    period: Period, summary: Summary, previous: Summary, breakdown: Dimension | None = None
) -> dict[str, Any]:
    """The report's JSON: totals, days, agents, the week's heatmap and the previous period;
    with a breakdown, its labels or teams."""
    days = []
    for n in range(period.days):
        day = period.first + timedelta(days=n)
        number = (day - EPOCH_DAY).days
        counts = summary.days.get(number, {})
        days.append(
            {"date": day.isoformat(), **_figures(counts, summary.percentiles, f"d{number}")}
        )
    heatmap = [[summary.week.get(d * 24 + h, 0) for h in range(24)] for d in range(7)]
    before = period.previous()
    groups: dict[str, Any] = {}
    if breakdown in BREAKDOWNS:
        name, key_name = BREAKDOWNS[breakdown]
        rows = summary.breakdown
        groups[name] = [
            {key_name: key, **_figures(rows[key], summary.percentiles, f"b{key}")}
            for key in sorted(rows)
            if any(rows[key].values())  # a label left by all its conversations: no row
        ]
    return {
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "tz": period.zone.key,
        "totals": _figures(_totals(summary), summary.percentiles, "t"),
        "days": days,
        "agents": [
            {"operator_id": key, **_figures(summary.agents[key], summary.percentiles, f"a{key}")}
            for key in sorted(summary.agents)
        ],
        **groups,
        "heatmap": heatmap,
        "previous": {
            "from": before.first.isoformat(),
            "to": before.last.isoformat(),
            "totals": _figures(_totals(previous), previous.percentiles, "t"),
        },
    }


class Rollups:
    """Rollup rows being built in memory, keyed by (hour, dimension, key)."""

    def __init__(self) -> None:
        self._rows: dict[tuple[datetime, Dimension, str], HourRow] = {}

    def add(self, row: HourRow) -> None:
        at = (row.hour, row.dimension, row.key)
        kept = self._rows.get(at)
        if kept is None:
            kept = self._rows[at] = HourRow(row.hour, row.dimension, row.key, {}, {})
        for name, count in row.counts.items():
            kept.counts[name] = kept.counts.get(name, 0) + count
        for name, hist in row.durations.items():
            into = kept.durations.setdefault(name, {})
            for key, count in hist.items():
                into[key] = into.get(key, 0) + count

    def rows(self) -> list[HourRow]:
        return [self._rows[at] for at in sorted(self._rows)]


def changes(
    at: datetime,
    operator_id: str | None,
    counts: dict[str, int],
    durations: dict[str, Histogram] | None = None,
) -> list[HourRow]:
    """The rows one event adds to: the website's hour, and the agent's when there is one."""
    hour, durations = hour_of(at), durations or {}
    rows = [HourRow(hour, Dimension.WEBSITE, "", counts, durations)]
    if operator_id:
        rows.append(HourRow(hour, Dimension.OPERATOR, operator_id, counts, durations))
    return rows


def first_response_rows(facts: ConversationFacts, sign: int = 1) -> list[HourRow]:
    seconds = facts.first_response
    if seconds is None:
        return []
    hist = {"first_response": {bucket(seconds): sign}}
    return changes(facts.started_at, facts.first_responder_id, {}, hist)


def resolution_rows(facts: ConversationFacts, sign: int = 1) -> list[HourRow]:
    """A resolved conversation counted (sign 1) or taken back on reopening (sign -1)."""
    if facts.resolved_at is None:
        return []
    seconds = facts.resolution
    hist = {} if seconds is None else {"resolution": {bucket(seconds): sign}}
    return changes(facts.resolved_at, facts.resolved_by, {"conversations_resolved": sign}, hist)


def message_rows(at: datetime, author: str, operator_id: str | None, type_: str) -> list[HourRow]:
    """A message's counts: visitors' and agents' visible messages (notes and system ones not)."""
    if type_ == "note" or author not in ("visitor", "operator"):
        return []
    name = f"messages_{author}"
    return changes(at, operator_id if author == "operator" else None, {name: 1})


@dataclass(frozen=True)
class Groups:
    """The labels and team a conversation carries: its figures count under each of them too."""

    labels: tuple[str, ...] = ()
    team_id: str | None = None

    def group_keys(self) -> list[tuple[Dimension, str]]:
        keys = [(Dimension.LABEL, label) for label in self.labels]
        return keys + ([(Dimension.TEAM, self.team_id)] if self.team_id else [])


def grouped(rows: Iterable[HourRow], groups: Groups, sign: int = 1) -> list[HourRow]:
    """The website's rows of a conversation's event, copied to each of its labels and its team
    (`sign` -1: taken away, when the conversation leaves them)."""
    out: list[HourRow] = []
    for row in rows:
        if row.dimension is not Dimension.WEBSITE:
            continue
        counts = {name: n * sign for name, n in row.counts.items()}
        durations = {
            name: {key: n * sign for key, n in hist.items()} for name, hist in row.durations.items()
        }
        out.extend(HourRow(row.hour, d, key, counts, durations) for d, key in groups.group_keys())
    return out


Rating = tuple[str | None, datetime, int]  # (agent, resolved at, rating)
MessageSource = tuple[str, str, str | None, str, datetime]  # (conversation, author, agent, ...)


def rating_rows(operator_id: str | None, resolved_at: datetime, rating: int) -> list[HourRow]:
    return changes(resolved_at, operator_id, {"ratings_count": 1, "ratings_sum": rating})


def conversation_rows(
    facts: ConversationFacts, messages: Iterable[MessageSource], ratings: Iterable[Rating]
) -> list[HourRow]:
    """Everything one conversation adds to its website's rows: what its labels and team count
    when it joins or leaves them."""
    rows = changes(facts.started_at, None, {"conversations_started": 1})
    for _, author, operator_id, type_, at in messages:
        rows += message_rows(at, author, operator_id, type_)
    rows += first_response_rows(facts) + resolution_rows(facts)
    for rating in ratings:
        rows += rating_rows(*rating)
    return [row for row in rows if row.dimension is Dimension.WEBSITE]
