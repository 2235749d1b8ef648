"""The reports' parameters (docs/reports.md, "The API"): each refusal is a 422 whose message
names the parameter to change (audit15)."""

from __future__ import annotations

from datetime import date

import pytest

from causerie.actions.reports import check_breakdown, check_period
from causerie.domain.errors import Invalid

TODAY = date(2026, 12, 8)


@pytest.mark.parametrize(
    ("first", "last", "tz", "code", "names"),
    [
        ("2026-13-01", "2026-12-01", None, "invalid_date", ("from",)),
        ("2026-01-01", "2026-02-30", None, "invalid_date", ("to",)),
        ("2026-01-01", "2026-01-02", "Europe/Pariss", "invalid_time_zone", ("tz",)),
        ("2026-02-01", "2026-01-01", None, "invalid_period", ("from", "to")),
        # Ten years: said with what was asked for, not only the limit.
        ("2016-01-01", "2026-01-01", None, "invalid_period", ("from", "to", "3654 days")),
        ("2016-01-01", None, "Europe/Paris", "invalid_period", ("from", "to", "2026-12-08")),
    ],
)
def test_each_refused_parameter_is_named(
    first: str, last: str | None, tz: str | None, code: str, names: tuple[str, ...]
) -> None:
    """A period over 366 days was refused as "a report covers at most 366 days": neither
    `from` nor `to` named, nor the period the parameters made (with `to` left out, today)."""
    with pytest.raises(Invalid) as refused:
        check_period(first, last, tz, TODAY)
    assert refused.value.code == code
    for name in names:
        assert name in str(refused.value), (name, str(refused.value))


def test_a_period_of_366_days_is_taken_and_an_empty_by_is_no_breakdown() -> None:
    period = check_period("2025-12-31", "2026-12-31", "Europe/Paris", TODAY)
    assert (period.first, period.last) == (date(2025, 12, 31), date(2026, 12, 31))
    assert check_breakdown("") is None
    with pytest.raises(Invalid, match=r"^by must be label or team"):
        check_breakdown("day")
