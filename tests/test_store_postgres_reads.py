"""PostgreSQL's reads on asyncpg (store/postgres.py, `PostgresDb.fetch_one`/`fetch_all`): once a
transaction has begun, a prepared query runs on the driver, its rows converted as SQLAlchemy's
result processors convert them; the same rows as SQLAlchemy's own path returns."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Integer, Numeric, bindparam, cast, select

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
