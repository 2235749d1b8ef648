"""A deletion of sessions that PostgreSQL ends to break a deadlock is run again (P9, P15, P20).

A job about a session (a webhook's delivery) holds its own row while it runs, and may write a
row that names the session; an erasure, a conversation's deletion or a purge batch deletes the
session, then the session's jobs. Each then waits for the other, and PostgreSQL ends one of
them: when it is the deletion, it runs again in a fresh transaction (`run_again_when_raced`),
and the session is still deleted. Real PostgreSQL, two real connections."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from causerie.actions.conversations import do_delete_conversation
from causerie.actions.jobs import do_enqueue
from causerie.actions.messages import do_send_session_message
from causerie.actions.privacy import do_erase_own_session, do_erase_subject
from causerie.actions.races import run_again_when_raced
from causerie.actions.retention import do_purge
from causerie.actions.sessions import do_open_session
from causerie.actions.websites import do_create_website
from causerie.domain.models import Actor, PageView
from causerie.domain.ports import TransactionRaced
from tests.conftest import ORIGIN, Harness
from tests.support import open_sessions

T = TypeVar("T")


def test_p9_an_erasure_ended_by_a_deadlock_with_a_job_of_the_session_runs_again(
    harness: Harness,
) -> None:
    (session_id,) = _sessions(harness, 1)
    counts = harness.run(
        _deadlocked_with_a_job(
            harness,
            session_id,
            lambda: do_erase_subject(harness.rt, Actor.cli(), session_id=session_id),
        )
    )
    assert counts == {"sessions": 1, "messages": 0}
    _nothing_left(harness)


def test_p9_a_visitors_own_erasure_ended_by_a_deadlock_with_a_job_of_the_session_runs_again(
    harness: Harness,
) -> None:
    website_id = _website(harness)
    opened = harness.run(
        do_open_session(
            harness.rt,
            website_id=website_id,
            token=None,
            page=PageView(url="https://shop.example/", title="Shop"),
            ip="203.0.113.9",
            origin=ORIGIN,
        )
    )
    assert opened.session is not None
    counts = harness.run(
        _deadlocked_with_a_job(
            harness,
            opened.session.id,
            lambda: do_erase_own_session(harness.rt, opened.token, ORIGIN),
        )
    )
    assert counts == {"sessions": 1, "messages": 0}
    _nothing_left(harness)


def test_a_transaction_that_keeps_losing_races_is_run_a_bounded_number_of_times() -> None:
    runs = 0

    async def always_raced() -> None:
        nonlocal runs
        runs += 1
        raise TransactionRaced("ended to break a deadlock")

    with pytest.raises(TransactionRaced):
        asyncio.run(run_again_when_raced(always_raced, again=2))
    assert runs == 3


def test_p20_a_conversation_deletion_ended_by_a_deadlock_with_a_job_of_the_session_runs_again(
    harness: Harness,
) -> None:
    (session_id,) = _sessions(harness, 1)
    sent = harness.run(
        do_send_session_message(harness.rt, session_id, client_id="c1", body="Hello?")
    )
    conversation_id = sent.message.conversation_id
    count = harness.run(
        _deadlocked_with_a_job(
            harness,
            session_id,
            lambda: do_delete_conversation(harness.rt, Actor.cli(), conversation_id),
        )
    )
    assert count == 1
    assert harness.scalar("SELECT count(*) FROM conversations") == 0
    _nothing_left(harness)


def test_p15_a_purge_batch_ended_by_a_deadlock_with_a_job_of_the_session_runs_again(
    harness: Harness,
) -> None:
    (session_id,) = _sessions(harness, 1)
    harness.clock.advance(timedelta(minutes=31))  # past CAUSERIE_TEMPORARY_SESSION_TTL
    counts = harness.run(_deadlocked_with_a_job(harness, session_id, lambda: do_purge(harness.rt)))
    assert counts["temporary_sessions"] == 1
    _nothing_left(harness)


def _website(harness: Harness) -> str:
    if not harness.settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite's writers take turns: two transactions never wait on each other")
    return harness.run(do_create_website(harness.rt, Actor.cli(), "Shop", [ORIGIN])).id


def _sessions(harness: Harness, count: int) -> list[str]:
    return open_sessions(harness, _website(harness), count)


def _nothing_left(harness: Harness) -> None:
    assert harness.scalar("SELECT count(*) FROM sessions") == 0
    assert harness.scalar("SELECT count(*) FROM jobs WHERE session_id IS NOT NULL") == 0


async def _deadlocked_with_a_job(
    harness: Harness, session_id: str, deletion: Callable[[], Awaitable[T]]
) -> T:
    """Run `deletion` while a job of the session holds its row, and have the job write another
    row naming the session once the deletion waits for it: PostgreSQL ends the deletion's first
    transaction. What `deletion` returned in the end."""
    rt = harness.rt
    async with rt.store.transaction() as tx:
        job_id = await do_enqueue(rt, tx, "webhook.deliver", session_id=session_id)
    dsn = make_url(harness.settings.database_url).set(drivername="postgresql")
    job = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    watch = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    try:
        tx = job.transaction()
        await tx.start()
        # The deletion must be the one to find the deadlock: this side waits far longer.
        await job.execute("SET LOCAL deadlock_timeout = '60s'")
        await job.execute("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", job_id)
        deleting = asyncio.ensure_future(deletion())
        await asyncio.wait_for(_deleting_waits(watch), 30)
        # The job writes another job naming the session, which the deletion has deleted.
        await job.execute(
            "INSERT INTO jobs SELECT 'j2', kind, state, NULL, session_id, payload, attempts,"
            " run_at, lease_until, last_error, created_at FROM jobs WHERE id = $1",
            job_id,
        )
        await tx.commit()  # the deletion's first transaction was ended; this one went through
        return await asyncio.wait_for(deleting, 30)
    finally:
        await job.close()
        await watch.close()


async def _deleting_waits(watch: asyncpg.Connection) -> None:
    """Until the deletion's delete of the session waits for a row lock (the job's row, which
    deleting the session deletes too)."""
    while not await watch.fetchval(  # noqa: ASYNC110 (another process's state: no event to wait on)
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        " AND query LIKE 'DELETE FROM sessions%' AND datname = current_database()"
    ):
        await asyncio.sleep(0.01)
