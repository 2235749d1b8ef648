"""Business hours: a website's weekly schedule in its time zone, its holidays and its away
message (docs/inbox.md "Business hours").

Times are wall-clock times of the website's IANA zone (zoneinfo), so a schedule of 09:00-17:00
stays 09:00-17:00 across daylight-saving changes. Stored in the website's settings as
`business_hours` (null: no schedule, always within hours):

    {"timezone": "Europe/Paris",
     "week": {"mon": [["09:00", "17:00"]], ..., "sun": []},
     "holidays": ["2026-12-25"],
     "away_message": "We are back on Monday."}
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from causerie.domain.errors import Invalid
from causerie.domain.zones import iana_zone

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SPANS_PER_DAY = 4
HOLIDAYS_MAX = 100
AWAY_MESSAGE_MAX = 500
_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$")
_LOOKAHEAD_DAYS = HOLIDAYS_MAX + 8  # holidays in a row cannot hide every opening beyond this


def _fail(message: str) -> Invalid:
    return Invalid(f"settings.business_hours.{message}", "invalid_settings")


def _minutes(text: Any, where: str) -> int:
    if not isinstance(text, str) or not _TIME.match(text):
        raise _fail(f"{where}: a time such as 09:00 (00:00 to 24:00)")
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def check_hours(value: Any) -> dict[str, Any] | None:
    """The schedule as stored (days in order, spans sorted), or `Invalid` naming the field."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _fail("an object with timezone, week, holidays and away_message, or null")
    unknown = set(value) - {"timezone", "week", "holidays", "away_message"}
    if unknown:
        raise _fail(f"{sorted(unknown)[0]}: not a field of business hours")
    zone = value.get("timezone")
    if not isinstance(zone, str) or iana_zone(zone) is None:
        raise _fail("timezone: an IANA time zone such as Europe/Paris")
    week = value.get("week") or {}
    if not isinstance(week, dict) or set(week) - set(DAYS):
        raise _fail("week: an object of days (mon to sun), each a list of [start, end] times")
    stored_week: dict[str, list[list[str]]] = {}
    for day in DAYS:
        spans = week.get(day) or []
        if not isinstance(spans, list) or len(spans) > SPANS_PER_DAY:
            raise _fail(f"week.{day}: at most {SPANS_PER_DAY} [start, end] times")
        parsed = []
        for span in spans:
            if not isinstance(span, list) or len(span) != 2:
                raise _fail(f"week.{day}: each span is [start, end]")
            start, end = _minutes(span[0], f"week.{day}"), _minutes(span[1], f"week.{day}")
            if start >= end:
                raise _fail(f"week.{day}: {span[0]} is not before {span[1]}")
            parsed.append((start, end, span))
        parsed.sort()
        for (_, end, _span), (start, _, later) in itertools.pairwise(parsed):
            if start < end:
                raise _fail(f"week.{day}: {later[0]}-{later[1]} overlaps another span")
        stored_week[day] = [list(span) for _, _, span in parsed]
    holidays = value.get("holidays") or []
    if not isinstance(holidays, list) or len(holidays) > HOLIDAYS_MAX:
        raise _fail(f"holidays: a list of at most {HOLIDAYS_MAX} dates")
    for day_text in holidays:
        try:
            date.fromisoformat(day_text)
            if not isinstance(day_text, str) or len(day_text) != 10:
                raise ValueError
        except (TypeError, ValueError):
            raise _fail("holidays: dates such as 2026-12-25") from None
    away = value.get("away_message") or ""
    if not isinstance(away, str) or len(away) > AWAY_MESSAGE_MAX:
        raise _fail(f"away_message: text of at most {AWAY_MESSAGE_MAX} characters")
    return {
        "timezone": zone,
        "week": stored_week,
        "holidays": sorted(set(holidays)),
        "away_message": away.strip(),
    }


def _spans(hours: dict[str, Any], day: date) -> list[tuple[int, int]]:
    if day.isoformat() in hours.get("holidays", ()):
        return []
    spans = hours.get("week", {}).get(DAYS[day.weekday()], [])
    return [(_minutes(start, "week"), _minutes(end, "week")) for start, end in spans]


def _at(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """The instant of a wall-clock time (a time skipped by a daylight-saving change falls after
    the change: 02:30 on a spring-forward night is 03:30)."""
    naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)
    return naive.replace(tzinfo=zone).astimezone(UTC)


def is_open(hours: dict[str, Any] | None, at: datetime) -> bool:
    """Whether `at` falls within the schedule (always, without one)."""
    if not hours:
        return True
    local = at.astimezone(ZoneInfo(hours["timezone"]))
    now = local.hour * 60 + local.minute
    return any(start <= now < end for start, end in _spans(hours, local.date()))


def next_opening(hours: dict[str, Any] | None, at: datetime) -> datetime | None:
    """When the team is next within hours, from `at` (`at` itself when open now); None when the
    schedule has no opening at all in the coming weeks."""
    if is_open(hours, at) or not hours:
        return at
    zone = ZoneInfo(hours["timezone"])
    today = at.astimezone(zone).date()
    for ahead in range(_LOOKAHEAD_DAYS):
        day = today + timedelta(days=ahead)
        for start, _end in _spans(hours, day):
            opening = _at(day, start, zone)
            if opening > at:
                return opening
    return None


def availability(hours: dict[str, Any] | None, at: datetime) -> dict[str, Any] | None:
    """What the chatbox is told of the schedule: `{open, back_at, away_message}` (None without
    a schedule). `back_at` is an ISO UTC time, or null while open or when no opening is near."""
    if not hours:
        return None
    open_now = is_open(hours, at)
    back = None if open_now else next_opening(hours, at)
    return {
        "open": open_now,
        "back_at": None
        if back is None
        else back.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "away_message": hours.get("away_message", ""),
    }
