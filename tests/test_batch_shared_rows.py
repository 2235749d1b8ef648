"""A message batch writes its website's shared rows only at its end (actions/batches.py).

Two nodes' batches of one website write the same rows: its stream's counter, its hour and day in
`report_hours` and `report_days`, its networks' day in `network_stats`. Each batch holds them from
the statement that first writes them to its commit, and the other node's batch waits that long.
A conversation started in a batch (its count in the day's `started_hours`, its routing into the
website's first team) used to run the held-back writes at once, so the batch held those rows
from its first new conversation on, through every part after it (docs/performance.md, "Two
nodes under the botnet: the website's rows taken at the batch's end").
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from causerie.actions.batches import Batcher
from causerie.actions.reports import do_rebuild
from causerie.actions.teams import do_create_team
from causerie.clock import ManualClock
from causerie.domain.events import Stream
from causerie.domain.models import Actor
from causerie.domain.ports import Tx
from tests.conftest import Harness, Site
from tests.support import open_sessions
from tests.test_message_batches import _gather, _send

# The website's rows that both nodes' batches write (the test's sessions share one network).
_SHARED = (
    ("streams", "stream = $1", "stream"),
    ("report_hours", "website_id = $1", "website"),
    ("report_days", "website_id = $1", "website"),
    ("network_stats", "$1 <> ''", "website"),
)


async def _locked(url: str, website_id: str) -> list[str]:
    """The tables of `_SHARED` with a row another transaction holds now, read from a connection
    of its own (`FOR UPDATE NOWAIT` fails at once on a row held)."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"), timeout=5)
    held = []
    try:
        keys = {"stream": Stream.of_website(website_id).key, "website": website_id}
        for table, where, key in _SHARED:
            try:
                async with conn.transaction():
                    query = f"SELECT 1 FROM {table} WHERE {where} FOR UPDATE NOWAIT"
                    await conn.fetch(query, keys[key])
            except asyncpg.LockNotAvailableError:
                held.append(table)
    finally:
        await conn.close()
    return held


def test_a_batch_that_starts_conversations_holds_the_website_s_rows_only_at_its_end(
    harness: Harness, site: Site, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite's writers take turns: a transaction locks the database, not rows")
    before, talking, new, gone = open_sessions(harness, site.website_id, 4)
    harness.execute("DELETE FROM sessions WHERE id = :id", id=gone)
    # The rows exist (a lock on a row being inserted is not seen from outside).
    harness.run(_send(harness, site, before, "b1", "hello"))
    harness.run(_send(harness, site, talking, "t1", "hello"))
    rt, url = harness.rt, database_url
    batcher = rt.batches
    assert isinstance(batcher, Batcher)
    before_batches, before_parts = batcher.batches, batcher.parts

    async def look(tx: Tx) -> list[str]:
        return await _locked(url, site.website_id)

    async def batch() -> list[Any]:
        # One batch: a message in a conversation (its events and counts held back), one that
        # starts a conversation, one refused (its session is gone), then a part that looks
        # from outside at what the batch holds.
        return await _gather(
            _send(harness, site, talking, "t2", "still there?"),
            _send(harness, site, new, "n1", "a first question"),
            _send(harness, site, gone, "g1", "anyone?"),
            batcher.run(rt.store, site.website_id, look),
        )

    results = harness.run(batch())
    assert (batcher.batches - before_batches, batcher.parts - before_parts) == (1, 4)
    assert results[3] == [], f"held before the batch's end: {results[3]}"
    assert harness.scalar("SELECT count(*) FROM messages") == 4


def test_conversations_started_in_one_batch_each_count_in_the_day_s_started_hours(
    harness: Harness, site: Site
) -> None:
    sessions = open_sessions(harness, site.website_id, 5)
    batches = harness.rt.batches
    assert isinstance(batches, Batcher)
    before = batches.batches
    sent = harness.run(
        _gather(*(_send(harness, site, s, f"c{n}", f"hi {n}") for n, s in enumerate(sessions)))
    )
    assert not any(isinstance(s, Exception) for s in sent), sent
    assert batches.batches - before == 1  # the five held back and merged into one row's update
    query = (
        "SELECT day, started_hours, conversations_started FROM report_days"
        " WHERE dimension = 'website' AND website_id = :w"
    )
    kept = harness.rows(query, w=site.website_id)
    ((_, hours, started),) = kept
    hour = harness.rt.clock.now().hour
    counted = json.loads(hours) if isinstance(hours, str) else hours
    assert started == 5 and counted[hour] == 5 and sum(counted) == 5
    # What a rebuild finds in the source rows.
    harness.run(do_rebuild(harness.rt, site.website_id))
    assert harness.rows(query, w=site.website_id) == kept


def test_conversations_started_in_one_batch_join_the_website_s_first_team(
    harness: Harness, site: Site, clock: ManualClock
) -> None:
    rt = harness.rt
    first = harness.run(do_create_team(rt, Actor.cli(), site.website_id, name="First"))
    clock.advance(timedelta(seconds=1))
    harness.run(do_create_team(rt, Actor.cli(), site.website_id, name="Then"))
    one, two = open_sessions(harness, site.website_id, 2)
    sent = harness.run(
        _gather(_send(harness, site, one, "a", "hi"), _send(harness, site, two, "b", "hey"))
    )
    assert not any(isinstance(s, Exception) for s in sent), sent
    assert harness.rows("SELECT team_id FROM conversations") == [(first.id,), (first.id,)]
