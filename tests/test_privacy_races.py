"""An erasure that PostgreSQL ends to break a deadlock is run again (P9).

A job about a session (a webhook's delivery) holds its own row while it runs, and may write a
row that names the session; an erasure deletes the session, then the session's jobs. Each then
waits for the other, and PostgreSQL ends one of them: when it is the erasure, its batch is found
afresh and run again, and the person is still erased. Real PostgreSQL, two real connections."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from causerie.actions.jobs import do_enqueue
from causerie.actions.privacy import do_erase_subject
from causerie.actions.websites import do_create_website
from causerie.domain.models import Actor
from tests.conftest import ORIGIN, Harness
from tests.support import open_sessions


def test_p9_an_erasure_ended_by_a_deadlock_with_a_job_of_the_session_runs_again(
    harness: Harness,
) -> None:
    if not harness.settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite's writers take turns: two transactions never wait on each other")
    rt = harness.rt
    website = harness.run(do_create_website(rt, Actor.cli(), "Shop", [ORIGIN]))
    (session_id,) = open_sessions(harness, website.id, 1)
    dsn = make_url(harness.settings.database_url).set(drivername="postgresql")

    async def scenario() -> dict[str, int]:
        async with rt.store.transaction() as tx:
            await do_enqueue(rt, tx, "webhook.deliver", session_id=session_id)
        job = await asyncpg.connect(dsn.render_as_string(hide_password=False))
        watch = await asyncpg.connect(dsn.render_as_string(hide_password=False))
        try:
            tx = job.transaction()
            await tx.start()
            # The erasure must be the one to find the deadlock: this side waits far longer.
            await job.execute("SET LOCAL deadlock_timeout = '60s'")
            await job.execute("SELECT 1 FROM jobs WHERE session_id = $1 FOR UPDATE", session_id)
            erasure = asyncio.create_task(do_erase_subject(rt, Actor.cli(), session_id=session_id))
            await asyncio.wait_for(_deleting_waits(watch), 30)
            # The job writes another job naming the session, which the erasure has deleted.
            await job.execute(
                "INSERT INTO jobs SELECT 'j2', kind, state, NULL, session_id, payload, attempts,"
                " run_at, lease_until, last_error, created_at FROM jobs WHERE session_id = $1",
                session_id,
            )
            await tx.commit()  # the erasure's first batch was ended; this one went through
            return await asyncio.wait_for(erasure, 30)
        finally:
            await job.close()
            await watch.close()

    counts = harness.run(scenario())
    assert counts == {"sessions": 1, "messages": 0}
    assert harness.scalar("SELECT count(*) FROM sessions") == 0
    assert harness.scalar("SELECT count(*) FROM jobs WHERE session_id IS NOT NULL") == 0


async def _deleting_waits(watch: asyncpg.Connection) -> None:
    """Until the erasure's delete of the session waits for a row lock (the job's row, which
    deleting the session deletes too)."""
    while not await watch.fetchval(  # noqa: ASYNC110 (another process's state: no event to wait on)
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        " AND query LIKE 'DELETE FROM sessions%' AND datname = current_database()"
    ):
        await asyncio.sleep(0.01)
