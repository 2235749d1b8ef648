"""`domain/wire.py` `iso`: a UTC time written by orjson, any other by `isoformat`; both as
`isoformat` with `+00:00` written `Z`, which is what the API documents (docs/api.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from causerie.domain.wire import iso


def _expected(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


@given(st.datetimes(timezones=st.just(UTC)))
def test_any_utc_time_is_written_as_isoformat_with_z(value: datetime) -> None:
    assert iso(value) == _expected(value)


@given(
    st.datetimes(
        timezones=st.none()
        | st.sampled_from([timezone(timedelta(0)), timezone(timedelta(hours=2))])
        | st.just(ZoneInfo("Europe/London"))
    )
)
def test_any_other_time_is_written_as_before(value: datetime) -> None:
    assert iso(value) == _expected(value)


def test_the_edges() -> None:
    assert iso(None) is None
    assert iso(datetime(2026, 12, 8, 3, 0, tzinfo=UTC)) == "2026-12-08T03:00:00Z"
    assert iso(datetime(2026, 12, 8, 3, 0, 0, 1, tzinfo=UTC)) == "2026-12-08T03:00:00.000001Z"
    assert iso(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00Z"
    assert iso(datetime(2026, 12, 8, 3, 0, fold=1, tzinfo=UTC)) == "2026-12-08T03:00:00Z"
    assert iso(datetime(2026, 12, 8, 3, 0)) == "2026-12-08T03:00:00"  # naive: no offset


class _Later(datetime):
    pass


def test_a_subclass_is_written_by_isoformat() -> None:
    value = _Later(2026, 12, 8, 3, 0, tzinfo=UTC)
    assert iso(value) == "2026-12-08T03:00:00Z"
