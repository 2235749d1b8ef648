"""PostgreSQL's transactions on asyncpg itself (store/postgres.py, `PostgresDb.begin`, `commit`,
`abandon`): SQLAlchemy holds the connection in autocommit and the store sends BEGIN, COMMIT and
ROLLBACK. What SQLAlchemy's own transaction guaranteed still holds: what a failed or cancelled
transaction wrote is gone, its connection never reaches another caller inside it, and a
transaction of the other durability commits without waiting for its flush."""

from __future__ import annotations

import asyncio
import socket

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import make_url, text

from causerie.store.postgres import KEEPALIVE
from tests.conftest import Harness, Site
from tests.support import until_pg_backend

_RENAME = text("UPDATE websites SET name = :name WHERE id = :id")
_LEFT_OPEN = text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND state LIKE 'idle in transaction%'"
)


@pytest.fixture
def database_url(database_url: str) -> str:
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's transactions on its driver (SQLite's store has its own)")
    return database_url


def _name(harness: Harness, site: Site) -> str:
    return str(harness.scalar("SELECT name FROM websites WHERE id = :id", id=site.website_id))


async def _left_open(harness: Harness) -> int:
    async with harness.rt.store.read() as tx:
        return int((await tx.db.execute(_LEFT_OPEN)).scalar())  # type: ignore[attr-defined]


async def _left_open_seen_from_outside(harness: Harness) -> int:
    """`_left_open` on a connection of its own: one from the pool could be the one left open,
    and a statement on it would show it busy."""
    url = make_url(harness.settings.database_url).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        return int(await conn.fetchval(str(_LEFT_OPEN)))
    finally:
        await conn.close()


async def _rename(harness: Harness, site: Site, name: str) -> None:
    async with harness.rt.store.transaction() as tx:
        await tx.db.execute(_RENAME, {"name": name, "id": site.website_id})  # type: ignore[attr-defined]


def test_what_a_failed_transaction_wrote_never_commits_with_the_next_on_its_connection(
    harness: Harness, site: Site
) -> None:
    before = _name(harness, site)

    async def scenario() -> int:
        with pytest.raises(RuntimeError, match="the action failed"):
            async with harness.rt.store.transaction() as tx:
                await tx.db.execute(_RENAME, {"name": "never", "id": site.website_id})  # type: ignore[attr-defined]
                raise RuntimeError("the action failed")
        left_open = await _left_open_seen_from_outside(harness)
        # The pool hands the same connection out next (last in, first out): its COMMIT must
        # not carry the failed one's write.
        async with harness.rt.store.transaction() as tx:
            await tx.db.execute(_RENAME, {"name": "other", "id": site.other_website_id})  # type: ignore[attr-defined]
        return left_open

    assert harness.run(scenario()) == 0
    assert _name(harness, site) == before != "never"


def test_a_transaction_cancelled_in_the_middle_of_a_statement_leaves_nothing_open(
    harness: Harness, site: Site
) -> None:
    async def scenario() -> int:
        started = asyncio.Event()

        async def long_one() -> None:
            async with harness.rt.store.transaction() as tx:
                await tx.db.execute(_RENAME, {"name": "cancelled", "id": site.website_id})  # type: ignore[attr-defined]
                started.set()
                await tx.db.execute(text("SELECT pg_sleep(30)"))  # type: ignore[attr-defined]

        task = asyncio.create_task(long_one())
        await asyncio.wait_for(started.wait(), 10)
        # Until PostgreSQL runs the sleep: the cancel lands in a statement.
        await until_pg_backend(
            harness, "state = 'active' AND query LIKE 'SELECT pg_sleep%'", "the statement never ran"
        )
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # Its row is locked until PostgreSQL ends the cancelled backend's transaction: others
        # that write it wait for that, then go through, each on a connection of the pool.
        for n in range(3):
            await asyncio.wait_for(_rename(harness, site, f"after {n}"), 40)
        return await _left_open(harness)

    assert harness.run(scenario()) == 0
    assert _name(harness, site) == "after 2"


def test_a_transaction_of_the_other_durability_does_not_wait_for_its_flush(
    harness: Harness,
) -> None:
    async def setting(durable: bool) -> str:
        async with harness.rt.store.transaction(durable=durable) as tx:
            found = await tx.db.execute(text("SHOW synchronous_commit"))  # type: ignore[attr-defined]
            return str(found.scalar())

    assert harness.run(setting(False)) == "off"
    assert harness.run(setting(True)) == "on"


def test_every_connection_to_postgresql_keeps_its_tcp_connection_alive(harness: Harness) -> None:
    async def options() -> tuple[int, int, int, int]:
        async with harness.rt.store.engine.connect() as conn:  # type: ignore[union-attr]
            driver = (await conn.get_raw_connection()).driver_connection
            sock = driver._transport.get_extra_info("socket")
            assert sock.family != socket.AF_UNIX  # the tests reach PostgreSQL over TCP
            return (
                sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
                sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
                sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
            )

    assert harness.run(options()) == (1, *KEEPALIVE)
