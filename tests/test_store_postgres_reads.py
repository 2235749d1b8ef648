"""PostgreSQL's reads on asyncpg (store/postgres.py, `PostgresDb.fetch_one`/`fetch_all`): once a
transaction has begun, a prepared query runs on the driver, its rows converted as SQLAlchemy's
result processors convert them; the same rows as SQLAlchemy's own path returns."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Integer, Numeric, Text, bindparam, cast, select

from causerie.store import statements
from causerie.store.db import Db, Query
from causerie.store.postgres import PostgresDb
from tests.conftest import Harness, Site
from tests.support import open_sessions


@pytest.fixture
def postgres(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's shortcut (SQLite's is tests/test_store_rows.py)")


def test_sessions_with_their_conversations_read_on_asyncpg_as_through_sqlalchemy(
    harness: Harness, site: Site, postgres: None
) -> None:
    ids = open_sessions(harness, site.website_id, 3)
    harness.execute(
        "UPDATE sessions SET data = '{\"plan\": [1, 2.5, null]}' WHERE id = :id", id=ids[0]
    )
    query = statements.sessions_with_conversations(4)
    params = {f"id{i}": ids[min(i, 2)] for i in range(4)}

    async def both() -> tuple[list[object], list[object], bool]:
        async with harness.rt.store.transaction() as tx:
            db = tx.db  # type: ignore[attr-defined]
            assert isinstance(db, PostgresDb)
            first = await db.fetch_all(query, params)
            on_driver = await db.fetch_all(query, params)
            through = await Db.fetch_all(db, query, params)
            return first, on_driver, through == on_driver and first == on_driver

    first, on_driver, same = harness.run(both())
    assert same, (first, on_driver)
    assert sorted(s.id for s, _ in on_driver) == sorted(ids)  # type: ignore[attr-defined]
    session = next(s for s, _ in on_driver if s.id == ids[0])  # type: ignore[attr-defined]
    assert session.data == {"plan": [1, 2.5, None]}
    assert session.created_at.utcoffset().total_seconds() == 0


def test_a_query_whose_rows_need_the_drivers_type_codes_is_read_through_sqlalchemy(
    harness: Harness, site: Site, postgres: None
) -> None:
    # PostgreSQL's numeric types are converted by what the driver says of each column.
    amount = Query(select(cast(bindparam("n", type_=Integer), Numeric(10, 2))), lambda row: row[0])
    dialect = harness.rt.store.engine.dialect  # type: ignore[attr-defined]
    assert amount.for_asyncpg(dialect).readable is False

    async def read() -> object:
        async with harness.rt.store.transaction() as tx:
            db = tx.db  # type: ignore[attr-defined]
            await db.fetch_all(statements.sessions_with_conversations(1), {"id0": "none"})
            return await db.fetch_one(amount, {"n": 3})

    assert harness.run(read()) == Decimal("3.00")


_JSON_VALUES: list[object] = [
    {},
    [],
    {"color": "#123456", "hours": {"mon": [9, 17.5]}, "on": True, "off": None},
    {"text": "h\u00e9llo \U0001f600", "quote": 'a "b" \\ c', "nul": "x\u2028y"},
    {"max": 2**53, "min": -(2**53), "big": 2**63 - 1},
    {"small": 1e-300, "exp": 2.5e10, "neg": -0.0, "third": 1 / 3},
    {1: "a key that is not a string"},  # orjson refuses it: json.dumps writes "1"
    "just text",
    42,
    None,
]


@pytest.mark.parametrize("value", _JSON_VALUES)
def test_json_is_written_and_read_as_sqlalchemys_defaults_do(
    database_url: str, postgres: None, value: object
) -> None:
    """The store's engine writes JSONB with orjson and reads it with orjson (`_json_text`,
    `_json_value`): what PostgreSQL stores and what comes back are those of SQLAlchemy's own
    `json.dumps` and `json.loads`, the same value through the same column type."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from causerie.store.database import driver_url
    from causerie.store.postgres import postgres_engine
    from causerie.store.types import Json

    through = select(
        cast(bindparam("v", type_=Json), Json).label("value"),
        cast(cast(bindparam("v", type_=Json), Json), Text).label("stored"),
    )

    async def both() -> tuple[object, object]:
        found = []
        for engine in (
            postgres_engine(database_url),
            create_async_engine(driver_url(database_url)),
        ):
            try:
                async with engine.connect() as conn:
                    row = (await conn.execute(through, {"v": value})).one()
                    found.append((repr(row.value), row.stored))
            finally:
                await engine.dispose()
        return found[0], found[1]

    import asyncio

    ours, sqlalchemys = asyncio.run(both())
    assert ours == sqlalchemys


def test_an_integer_past_64_bits_is_stored_as_before_and_read_back_a_float(
    database_url: str, postgres: None
) -> None:
    """orjson refuses to write it (`json.dumps` then does) and reads it as a float, as SQLite's
    reads do (store/db.py): the wire rules keep numbers within ±2**53, so none is stored."""
    from causerie.store.postgres import _json_text, _json_value

    assert _json_text({"past": 2**70}) == '{"past": 1180591620717411303424}'
    assert _json_value('{"past": 1180591620717411303424}') == {"past": float(2**70)}
