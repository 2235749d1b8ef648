"""The SQLite shortcut's row conversion (`store/db.py`, `_ForDriver`) gives the values
SQLAlchemy's own result processors give, for the JSON and datetime columns every row has; and its
parameters are what SQLAlchemy's bind processors make of them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Column, MetaData, Table, bindparam, select
from sqlalchemy.dialects import sqlite

from causerie.domain.models import Conversation, ConversationState
from causerie.store.db import Prepared
from causerie.store.repositories.conversations import _touched
from causerie.store.types import Json, UTCDateTime

_table = Table("t", MetaData(), Column("data", Json), Column("at", UTCDateTime))
_DRIVER = Prepared(select(_table.c.data, _table.c.at)).for_driver()
_DIALECT = sqlite.dialect()
_INSERT = Prepared(_table.insert().values(data=bindparam("data"), at=bindparam("at"))).for_driver()


def _sqlalchemys(column: Column[Any], stored: str) -> Any:
    process = column.type.dialect_impl(_DIALECT).result_processor(_DIALECT, None)
    assert process is not None
    return process(stored)


@pytest.mark.parametrize(
    "stored",
    [
        "{}",
        "[]",
        '["https://shop.example", "https://b.example"]',
        '{"color": "#123456", "hours": {"mon": [9, 17.5]}, "on": true, "off": null}',
        '{"text": "h\\u00e9llo \\ud83d\\ude00", "raw": "é😀"}',
        '{"max": 9007199254740992, "min": -9007199254740992, "big": 9223372036854775807}',
        '{"small": 1e-300, "exp": 2.5E10, "neg": -0.0}',
        '{"x": NaN, "y": -Infinity}',  # never stored (the wire rules), and read alike anyway
        '"just text"',
        "42",
    ],
)
def test_json_is_read_as_sqlalchemy_reads_it(stored: str) -> None:
    got = _DRIVER.row((stored, None))[0]
    expected = _sqlalchemys(_table.c.data, stored)
    assert repr(got) == repr(expected)  # repr: NaN equal to NaN, -0.0 told from 0.0


@pytest.mark.parametrize("stored", ["2026-12-06 21:40:12.123456", "2026-01-01 00:00:00.000000"])
def test_datetimes_are_read_as_sqlalchemy_reads_them(stored: str) -> None:
    got = _DRIVER.row((None, stored))[1]
    expected = _table.c.at.type.process_result_value(  # type: ignore[attr-defined]
        _sqlalchemys(Column("plain", UTCDateTime().impl), stored), _DIALECT
    )
    assert got == expected and got.tzinfo is UTC
    assert got == datetime.fromisoformat(stored).replace(tzinfo=UTC)


def test_a_datetime_read_again_and_past_the_kept_texts_is_read_alike() -> None:
    # The row's converter keeps what it parsed by text (`_Parsed`): the same text again, a
    # fresh copy of it, and more texts than it keeps each read as SQLAlchemy reads them.
    texts = [f"2026-12-08 02:{n // 60 % 60:02d}:{n % 60:02d}.{n:06d}" for n in range(1500)]
    for stored in ["2026-12-06 21:40:12.123456"] * 2 + texts + texts[:3]:
        got = _DRIVER.row((None, (stored + " ")[:-1]))[1]
        assert got == datetime.fromisoformat(stored).replace(tzinfo=UTC)
        assert got.tzinfo is UTC
    with pytest.raises(ValueError):
        _DRIVER.row((None, "not a time"))


def _sqlalchemys_bind(column: Column[Any], value: Any) -> Any:
    """What SQLAlchemy sends SQLite for `value` in `column` (its type's own processing)."""
    process = column.type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
    return value if process is None else process(value)


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 12, 6, 21, 40, 12, 123456, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),  # no microseconds: still six digits
        datetime(2026, 3, 29, 3, 30, 1, 5, tzinfo=timezone(timedelta(hours=2))),
        datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),
        None,
    ],
)
def test_datetimes_are_stored_as_sqlalchemy_stores_them(at: datetime | None) -> None:
    got = _INSERT.args({"data": {}, "at": at})[1]
    assert got == _sqlalchemys_bind(_table.c.at, at)


def test_a_naive_datetime_is_refused_as_sqlalchemy_refuses_it() -> None:
    naive = datetime(2026, 1, 1)
    with pytest.raises(ValueError, match="naive"):
        _sqlalchemys_bind(_table.c.at, naive)
    with pytest.raises(ValueError, match="naive"):
        _INSERT.args({"data": {}, "at": naive})


@pytest.mark.parametrize("data", [{}, [], {"a": [1, 2.5, None, "é"]}, "text", None])
def test_json_is_stored_as_sqlalchemy_stores_it(data: Any) -> None:
    got = _INSERT.args({"data": data, "at": None})[0]
    assert got == _sqlalchemys_bind(_table.c.data, data)


def test_a_datetime_converted_again_and_between_others_is_stored_alike() -> None:
    # `_utc_text` keeps the last value's text: the same object again, and values that alternate
    # (one instant in two zones among them), each get their own text.
    a = datetime(2026, 12, 7, 21, 0, 0, 1, tzinfo=UTC)
    b = datetime(2026, 12, 7, 23, 0, 0, 1, tzinfo=timezone(timedelta(hours=2)))
    c = datetime(2026, 12, 7, 21, 0, 0, 2, tzinfo=UTC)
    for at in [a, a, b, a, c, c, b]:
        assert _INSERT.args({"data": {}, "at": at})[1] == _sqlalchemys_bind(_table.c.at, at)


def test_a_missing_parameter_is_refused() -> None:
    with pytest.raises(KeyError):
        _INSERT.args({"data": {}})


def test_a_kept_conversations_touch_is_what_replace_makes() -> None:
    at = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)
    conversation = Conversation(
        "c1", "w1", "s1", ConversationState.OPEN, "op1", at, at, None, 2, 3, "m1", "m2",
        ("l1",), "t1", at,
    )  # fmt: skip
    later = at + timedelta(seconds=1)
    touched = _touched(conversation, later, 0, 1)
    assert touched == replace(
        conversation,
        updated_at=later,
        last_message_at=later,
        unread_by_visitor=2,
        unread_by_operator=4,
    )
    assert type(touched) is Conversation and conversation.unread_by_operator == 3
    # What the copy relies on: a plain frozen dataclass, nothing run at construction.
    assert not hasattr(Conversation, "__post_init__") and not hasattr(Conversation, "__slots__")
