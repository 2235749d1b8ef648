"""Business hours (domain/hours.py): a weekly schedule in the website's zone, holidays and an
away message; wall-clock times hold across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from causerie.domain.errors import Invalid
from causerie.domain.hours import availability, check_hours, is_open, next_opening

WEEKDAYS = {
    day: [["09:00", "12:00"], ["13:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")
}
PARIS = check_hours(
    {
        "timezone": "Europe/Paris",
        "week": WEEKDAYS,
        "holidays": ["2026-12-25"],
        "away_message": " Back soon. ",
    }
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_within_hours_follows_the_wall_clock_across_daylight_saving() -> None:
    # Winter (UTC+1): 09:00 in Paris is 08:00 UTC; summer (UTC+2): 07:00 UTC.
    assert not is_open(PARIS, at("2026-03-27T07:30"))  # Friday 08:30 CET
    assert is_open(PARIS, at("2026-03-27T08:00"))
    assert is_open(PARIS, at("2026-03-30T07:00"))  # Monday 09:00 CEST, after the change
    assert not is_open(PARIS, at("2026-03-30T06:59"))
    assert not is_open(PARIS, at("2026-03-30T10:30"))  # 12:30 CEST: the lunch break
    # Friday 17:30 CET: back on Monday at 09:00 CEST, the clocks moved on Sunday.
    assert next_opening(PARIS, at("2026-03-27T16:30")) == at("2026-03-30T07:00")
    # And back in autumn: Friday 23 October 17:30 CEST -> Monday 26 October 09:00 CET.
    assert next_opening(PARIS, at("2026-10-23T15:30")) == at("2026-10-26T08:00")


def test_holidays_and_the_away_message_reach_the_chatbox() -> None:
    assert not is_open(PARIS, at("2026-12-25T10:00"))  # a Friday, but a holiday
    shown = availability(PARIS, at("2026-12-24T17:00"))  # Thursday 18:00 CET
    assert shown == {"open": False, "back_at": "2026-12-28T08:00:00Z", "away_message": "Back soon."}
    assert availability(PARIS, at("2026-12-28T08:00")) == {
        "open": True,
        "back_at": None,
        "away_message": "Back soon.",
    }
    assert availability(None, at("2026-12-25T10:00")) is None  # no schedule: always open
    assert next_opening(check_hours({"timezone": "UTC"}), at("2026-01-01T00:00")) is None


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("9 to 5", "business_hours"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "localtime"}, "timezone"),  # the server's own zone: no IANA name
        ({"timezone": "posix/Europe/Paris"}, "timezone"),
        ({"timezone": "UTC", "week": {"monday": []}}, "week"),
        ({"timezone": "UTC", "week": {"mon": [["17:00", "09:00"]]}}, "week.mon"),
        (
            {"timezone": "UTC", "week": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}},
            "overlaps",
        ),
        ({"timezone": "UTC", "week": {"mon": [["9h", "12:00"]]}}, "week.mon"),
        ({"timezone": "UTC", "holidays": ["25/12/2026"]}, "holidays"),
        ({"timezone": "UTC", "away_message": "x" * 501}, "away_message"),
        ({"timezone": "UTC", "colour": "red"}, "colour"),
    ],
)
def test_a_wrong_schedule_is_refused_naming_the_field(value: object, named: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_hours(value)
    assert named in refused.value.message
