"""The rebuild, set-based (store/repositories/report_rebuild.py): from the source rows it finds
the rollups that the actions kept as things happened, across a change of offset, with durations
to the microsecond, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import orjson

from causerie.actions.ratings import do_rate_conversation
from causerie.actions.reports import do_flush_counts, do_rebuild
from tests.conftest import ORIGIN, Harness, Site
from tests.test_reports import Scene, started_rows


def _later(rng: random.Random, low: int, high: int) -> timedelta:
    return timedelta(seconds=rng.randrange(low, high), microseconds=rng.randrange(1_000_000))


def test_a_rebuild_equals_the_rollups_kept_across_a_change_of_offset(
    harness: Harness, site: Site
) -> None:
    scene = Scene(harness, site)
    rng = random.Random(29)
    agents = (scene.agent, scene.admin, scene.owner)
    at = datetime(2026, 3, 28, 21, tzinfo=UTC)  # Paris moves to UTC+2 at 01:00 UTC on the 29th
    for n in range(30):
        at += _later(rng, 300, 2400)
        token, conversation = scene.visitor(at)
        t, kind = at, n % 6
        if kind == 1:  # a note first: it answers nobody
            t += _later(rng, 1, 30)
            scene.answer(scene.agent, conversation, t, type_="note")
        if kind != 5:  # answered (within the same second now and then: truncated durations)
            t += _later(rng, 0, 400)
            scene.answer(rng.choice(agents), conversation, t)
        if kind in (0, 2, 3, 5):
            t += _later(rng, 1, 4000)
            scene.resolve(rng.choice(agents), conversation, t)
        if kind == 3:  # reopened by the visitor, resolved again
            t += _later(rng, 1, 600)
            scene.write(token, t)
            t += _later(rng, 1, 600)
            scene.resolve(scene.agent, conversation, t)
        if kind in (0, 3):
            for rating in (rng.randrange(1, 6), rng.randrange(1, 6)):  # re-rated: counts once
                harness.run(
                    do_rate_conversation(
                        harness.rt,
                        token=token,
                        origin=ORIGIN,
                        conversation_id=conversation,
                        rating=rating,
                    )
                )
        if kind == 4:  # the visitor writes again, later, in another hour
            scene.write(token, t + _later(rng, 3600, 7200))
        at = max(at, scene.clock.now())
    harness.run(do_flush_counts(harness.rt))
    assert scene.clock.now() > datetime(2026, 3, 29, 12, tzinfo=UTC)  # well past the change

    # A resolution taken back leaves its rows at 0 where a rebuild has none.
    kept = [row for row in scene.rollups() if any(row[4:])]
    kept_buckets = [row for row in scene.buckets() if row[-1]]
    started = started_rows(harness)
    assert len(kept) < len(scene.rollups())  # the scene took some back
    facts = harness.rows("SELECT * FROM report_conversations ORDER BY conversation_id")
    reports = [
        orjson.dumps(scene.report("2026-03-28", "2026-03-30", zone))
        for zone in ("Europe/Paris", "UTC", "Asia/Kolkata")
    ]
    assert len(kept_buckets) > 20
    assert harness.run(do_rebuild(harness.rt, website_id=site.website_id)) == 1
    assert scene.rollups() == kept
    assert scene.buckets() == kept_buckets
    assert started_rows(harness) == started
    assert harness.rows("SELECT * FROM report_conversations ORDER BY conversation_id") == facts
    assert [
        orjson.dumps(scene.report("2026-03-28", "2026-03-30", zone))
        for zone in ("Europe/Paris", "UTC", "Asia/Kolkata")
    ] == reports
