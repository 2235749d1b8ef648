"""The SQLite shortcut's row conversion (`store/db.py`, `_ForDriver`) gives the values
SQLAlchemy's own result processors give, for the JSON and datetime columns every row has."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Column, MetaData, Table, select
from sqlalchemy.dialects import sqlite

from causerie.store.db import Prepared
from causerie.store.types import Json, UTCDateTime

_table = Table("t", MetaData(), Column("data", Json), Column("at", UTCDateTime))
_DRIVER = Prepared(select(_table.c.data, _table.c.at)).for_driver()
_DIALECT = sqlite.dialect()


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
