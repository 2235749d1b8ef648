"""Group commit at the action level (actions/batches.py): concurrent sends of one website are
stored in one transaction and acknowledged after its one commit; a send that fails is undone
alone (in memory, or by running the batch again with a savepoint per part).

On both databases, through the production actions: the sends gathered on one event loop are what
a server's sockets hand the batcher when frames arrive together.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from causerie.actions.batches import Batcher
from causerie.actions.events import get_replay
from causerie.actions.messages import (
    Sent,
    do_send_operator_message,
    do_send_session_message,
    do_store_message,
)
from causerie.actions.sessions import count_network_day
from causerie.domain.errors import Invalid, Unauthenticated
from causerie.domain.events import EventType, NewEvent, Stream
from causerie.domain.models import Actor, MessageType
from causerie.domain.ports import TransactionRaced, Tx
from causerie.store.failures import is_storage_failure
from tests.conftest import Harness, Site
from tests.support import Heard, batcher_of, open_sessions, until

OBJECTS = ("message", "conversation", "session")  # what an event frame is about


async def _send(harness: Harness, site: Site, session_id: str, client_id: str, body: str) -> Sent:
    return await do_send_session_message(
        harness.rt, session_id, client_id=client_id, body=body, website_id=site.website_id
    )


async def _gather(*sends: Any) -> list[Any]:
    return list(await asyncio.gather(*sends, return_exceptions=True))


def _website_log(harness: Harness, site: Site) -> list[tuple[int, str]]:
    replay = harness.run(get_replay(harness.rt, Stream.of_website(site.website_id), 0))
    return replay.frames


def test_concurrent_sends_of_a_website_commit_in_one_transaction_with_contiguous_seqs(
    harness: Harness, site: Site
) -> None:
    sessions = open_sessions(harness, site.website_id, 8)
    batcher = batcher_of(harness)
    before = (batcher.batches, batcher.parts)
    sent = harness.run(
        _gather(*(_send(harness, site, s, f"c{n}", f"hello {n}") for n, s in enumerate(sessions)))
    )
    assert all(isinstance(s, Sent) and s.created for s in sent), sent
    # One transaction for the eight.
    assert (batcher.batches - before[0], batcher.parts - before[1]) == (1, 8)
    assert batcher.reruns == 0
    assert harness.scalar("SELECT count(*) FROM messages") == 8
    # The website's stream: every event of the batch, seq 1, 2, 3 ... without a gap, the
    # messages in the order the sends arrived.
    frames = _website_log(harness, site)
    assert [seq for seq, _ in frames] == list(range(1, len(frames) + 1))
    bodies = [f'"body":"hello {n}"' for n in range(8)]
    found = [
        next(b for b in bodies if b in text) for _, text in frames if "message.created" in text
    ]
    assert found == bodies


def test_a_send_that_fails_in_a_batch_is_undone_alone_and_the_others_commit(
    harness: Harness, site: Site
) -> None:
    first, second, gone = open_sessions(harness, site.website_id, 3)
    harness.execute("DELETE FROM sessions WHERE id = :id", id=gone)
    rt = harness.rt
    heard = Heard()
    harness.run(rt.hub.follow(Stream.of_website(site.website_id).key, heard))

    async def stored_then_refused(tx: Tx) -> Sent:
        # A part that has written its message, events and counts when it fails: all undone.
        session, conversation = await tx.sessions.get_with_conversation(second)
        assert session is not None
        await do_store_message(
            rt, tx, session, conversation, None, MessageType.TEXT, "never", "bad"
        )
        raise Invalid("refused after writing", "refused")

    batcher = batcher_of(harness)
    before = batcher.batches, batcher.reruns
    results = harness.run(
        _gather(
            _send(harness, site, first, "a1", "one"),
            batcher.run(rt.store, site.website_id, stored_then_refused),
            _send(harness, site, gone, "g1", "to a deleted session"),
            _send(harness, site, second, "b1", "two"),
        )
    )
    # Run without savepoints first: the refused part had written, so the batch was rolled back
    # and ran again, each part in its savepoint.
    assert (batcher.batches - before[0], batcher.reruns - before[1]) == (2, 1)
    assert isinstance(results[0], Sent) and isinstance(results[3], Sent)
    assert isinstance(results[1], Invalid) and results[1].code == "refused"
    assert isinstance(results[2], Unauthenticated) and results[2].code == "invalid_session"
    bodies = {row[0] for row in harness.rows("SELECT body FROM messages")}
    assert bodies == {"one", "two"}
    # The refused part's events are not in the log and were not published; its stream counts
    # were undone with it, so the log has no gap.
    frames = _website_log(harness, site)
    assert [seq for seq, _ in frames] == list(range(1, len(frames) + 1))
    assert not any('"never"' in text for _, text in frames)
    harness.run(heard.until_bodies(2))
    assert heard.bodies() == ["one", "two"]


def test_a_send_refused_before_it_writes_is_undone_in_memory_in_the_same_transaction(
    harness: Harness, site: Site
) -> None:
    first, second, gone = open_sessions(harness, site.website_id, 3)
    harness.execute("DELETE FROM sessions WHERE id = :id", id=gone)
    rt = harness.rt
    website = Stream.of_website(site.website_id)
    ran: list[str] = []

    async def held_back_then_refused(tx: Tx) -> None:
        # A read kept for the batch, an event and a count held back, a callback: nothing sent
        # to the database that a rollback would have to undo.
        session, _ = await tx.sessions.get_with_conversation(second)
        assert session is not None
        now = rt.clock.now()
        await tx.events.append_later(
            [NewEvent(website.key, EventType.SESSION_UPDATED, "refused-event", None, now)]
        )
        await count_network_day(rt, tx, "203.0.113.9", now.date(), sessions=0, messages=7)
        tx.on_commit(lambda: ran.append("refused"))
        raise Invalid("refused before writing", "refused")

    batcher = batcher_of(harness)
    before = batcher.batches, batcher.reruns
    results = harness.run(
        _gather(
            _send(harness, site, first, "a1", "one"),
            batcher.run(rt.store, site.website_id, held_back_then_refused),
            _send(harness, site, gone, "g1", "to a deleted session"),
            _send(harness, site, second, "b1", "two"),
        )
    )
    # One transaction, no savepoint, not run again: the two refusals were undone in memory.
    assert (batcher.batches - before[0], batcher.reruns - before[1]) == (1, 0)
    assert isinstance(results[0], Sent) and isinstance(results[3], Sent)
    assert isinstance(results[1], Invalid) and results[1].code == "refused"
    assert isinstance(results[2], Unauthenticated) and results[2].code == "invalid_session"
    assert {row[0] for row in harness.rows("SELECT body FROM messages")} == {"one", "two"}
    assert ran == []
    frames = _website_log(harness, site)
    assert [seq for seq, _ in frames] == list(range(1, len(frames) + 1))
    assert not any("refused-event" in text for _, text in frames)
    # The two messages' networks' counts only (each sender's own address): not the refused 7.
    assert harness.scalar("SELECT sum(messages) FROM network_stats") == 2


def test_the_same_client_id_twice_in_one_batch_stores_one_message(
    harness: Harness, site: Site
) -> None:
    (session,) = open_sessions(harness, site.website_id, 1)
    batcher = batcher_of(harness)
    before = batcher.batches
    one, two = harness.run(
        _gather(
            _send(harness, site, session, "same", "hello"),
            _send(harness, site, session, "same", "hello"),
        )
    )
    assert batcher.batches - before == 1
    assert isinstance(one, Sent) and isinstance(two, Sent)
    assert (one.created, two.created) == (True, False)
    assert one.message.id == two.message.id
    assert harness.scalar("SELECT count(*) FROM messages") == 1


def test_a_client_id_stored_by_an_earlier_batch_is_found_when_the_batch_runs_again(
    harness: Harness, site: Site
) -> None:
    # A message's row waits for its batch's flush: a client_id sent again (a resend after a
    # lost ack) makes that flush fail, and the batch runs again, each row written at once.
    first, second = open_sessions(harness, site.website_id, 2)
    original = harness.run(_send(harness, site, first, "again", "hello"))
    assert isinstance(original, Sent) and original.created
    batcher = batcher_of(harness)
    before = batcher.batches, batcher.reruns
    again, other = harness.run(
        _gather(
            _send(harness, site, first, "again", "hello"),
            _send(harness, site, second, "new", "hi"),
        )
    )
    assert (batcher.batches - before[0], batcher.reruns - before[1]) == (2, 1)
    assert isinstance(again, Sent) and not again.created
    assert again.message.id == original.message.id
    assert isinstance(other, Sent) and other.created
    assert harness.scalar("SELECT count(*) FROM messages") == 2
    frames = _website_log(harness, site)
    assert [seq for seq, _ in frames] == list(range(1, len(frames) + 1))
    created = [text for _, text in frames if "message.created" in text]
    assert sum('"client_id":"again"' in text for text in created) == 1


def test_order_holds_under_concurrency_per_session_and_on_the_website_stream(
    harness: Harness, site: Site
) -> None:
    sessions = open_sessions(harness, site.website_id, 6)
    rt = harness.rt

    async def conversation(n: int, session_id: str) -> None:
        for k in range(5):  # one after another, as a socket sends: each waits for its ack
            await _send(harness, site, session_id, f"s{n}m{k}", f"s{n} m{k}")

    async def agent_side() -> None:
        actor = Actor("operator", operator_id=site.operator_ids["agent"])
        for k in range(5):
            await do_send_operator_message(
                rt, actor, client_id=f"op{k}", body=f"op m{k}", session_id=sessions[0]
            )

    harness.run(_gather(*(conversation(n, s) for n, s in enumerate(sessions)), agent_side()))
    assert harness.scalar("SELECT count(*) FROM messages") == 35
    frames = _website_log(harness, site)
    assert [seq for seq, _ in frames] == list(range(1, len(frames) + 1))
    created = [text for _, text in frames if "message.created" in text]
    for prefix in [*(f"s{n} " for n in range(6)), "op "]:
        mine = [t for t in created if f'"body":"{prefix}' in t]
        assert [f'"body":"{prefix}m{k}"' in t for k, t in enumerate(mine)] == [True] * 5
    # Several sends per transaction: fewer transactions than messages.
    assert batcher_of(harness).parts == 35


def test_a_batch_s_acks_and_events_leave_without_waiting_for_the_lane_s_next_batch(
    harness: Harness, site: Site, database_url: str
) -> None:
    (session_id,) = open_sessions(harness, site.website_id, 1)
    rt = harness.rt
    batcher = batcher_of(harness)
    before = batcher.batches
    heard = Heard()
    acked: list[str] = []
    seen_by_next_batch: list[tuple[list[str], list[str]]] = []

    async def first() -> None:
        await _send(harness, site, session_id, "c1", "first")
        acked.append("first")  # where a socket queues its message.ack

    async def next_part(tx: Tx) -> None:
        if not database_url.startswith("sqlite"):
            # Committed early (a part waited behind it), the first batch is told once its
            # commit is on disk, while this one runs: its ack and event cannot wait for this
            # batch to end, or this waits in vain.
            await until(lambda: bool(acked and heard.bodies()), 5, lambda: "the first batch waited")
        seen_by_next_batch.append((list(acked), heard.bodies()))

    async def scenario() -> None:
        await rt.hub.follow(Stream.of_website(site.website_id).key, heard)
        begun = asyncio.Event()

        async def mark_begun(tx: Tx) -> None:
            begun.set()

        # One batch: both wait in the lane before it begins.
        marking = asyncio.create_task(rt.batches.run(rt.store, site.website_id, mark_begun))
        sending = asyncio.create_task(first())
        async with asyncio.timeout(5):
            await begun.wait()
        # Arrives while the first batch runs or commits: the lane's next batch.
        await asyncio.gather(marking, sending, rt.batches.run(rt.store, site.website_id, next_part))

    harness.run(scenario())
    assert (batcher.batches - before, acked) == (2, ["first"])
    # While the next batch ran (SQLite: when it began), the first one's sender had its ack and
    # the website's follower its message: neither waited for the next batch to end.
    assert seen_by_next_batch == [(["first"], ["first"])]
    # PostgreSQL: the first batch committed early; the next one, with nothing behind it, not.
    assert batcher.early == (0 if database_url.startswith("sqlite") else 1)


def test_when_the_database_drops_the_batch_no_send_of_it_is_acknowledged(
    harness: Harness, site: Site, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("a full disk is made with SQLite's page cap (test_hostile_input does both)")
    sessions = open_sessions(harness, site.website_id, 4)
    # The database file capped at its size, and its free pages filled: nothing more fits.
    harness.execute("CREATE TABLE filler (x BLOB)")
    pages = harness.scalar("PRAGMA page_count")
    harness.execute(f"PRAGMA max_page_count = {pages}")
    for size in (4000, 500, 50):
        while True:
            try:
                harness.execute(f"INSERT INTO filler VALUES (randomblob({size}))")
            except Exception:
                break
    rt = harness.rt
    heard = Heard()
    harness.run(rt.hub.follow(Stream.of_website(site.website_id).key, heard))
    batcher = batcher_of(harness)
    before, reruns_before = batcher.batches, batcher.reruns
    big = "x" * 10_000
    results = harness.run(
        _gather(*(_send(harness, site, s, f"f{n}", big) for n, s in enumerate(sessions)))
    )
    # One batch: the four sends together, run again (with savepoints) if the disk refused a
    # write after the batch's first one (a group's first transaction has no savepoint of its own).
    assert batcher.batches - before - (batcher.reruns - reruns_before) == 1
    # Every send gets the error (SQLite dropped the whole transaction: the sockets answer
    # `storage_unavailable`), none is stored, no event leaves.
    assert all(isinstance(r, Exception) and is_storage_failure(r) for r in results), results
    harness.execute("PRAGMA max_page_count = 1073741823")
    harness.execute("DROP TABLE filler")
    assert harness.scalar("SELECT count(*) FROM messages") == 0
    # A send once there is room: its events are the first the hub hands over (in order, from one
    # queue), so nothing of the failed batch was published before them.
    after = harness.run(_send(harness, site, sessions[0], "after", "room again")).message
    harness.run(heard.until_bodies(1))
    assert heard.bodies() == ["room again"]
    ours = {after.id, after.conversation_id, sessions[0]}
    about = [f[kind]["id"] for f in heard.frames for kind in f if kind in OBJECTS]
    assert len(about) == len(heard.frames) and set(about) <= ours, heard.frames


def _racing_batches(harness: Harness, one: Batcher, two: Batcher) -> tuple[list[Any], list[Any]]:
    """Two nodes' batches of one website that take two streams' rows in opposite orders:
    PostgreSQL ends one of them to break the deadlock. Each part appends one event."""
    rt = harness.rt
    x, y = "website:race-x", "website:race-y"
    appended = {x: asyncio.Event(), y: asyncio.Event()}

    def part(stream: str, then: str | None) -> Any:
        async def run(tx: Tx) -> str:
            # A deadlock is found after deadlock_timeout (1 s by default) of waiting.
            await tx.db.control("SET LOCAL deadlock_timeout = '50ms'")  # type: ignore[attr-defined]
            now = rt.clock.now()
            await tx.events.append([NewEvent(stream, EventType.MESSAGE_CREATED, "m", None, now)])
            appended[stream].set()
            if then is not None:  # both first parts hold their row: the second ones collide
                await appended[then].wait()
            return stream

        return run

    async def both() -> tuple[list[Any], list[Any]]:
        first = _gather(
            one.run(rt.store, "w", part(x, then=y)), one.run(rt.store, "w", part(y, then=None))
        )
        second = _gather(
            two.run(rt.store, "w", part(y, then=x)), two.run(rt.store, "w", part(x, then=None))
        )
        async with asyncio.timeout(20):
            return await asyncio.gather(first, second)

    return harness.run(both())


def test_a_batch_that_loses_a_deadlock_runs_again_and_every_part_commits_once(
    harness: Harness, site: Site, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite's writers take turns: two transactions never wait on each other")
    one, two = Batcher(), Batcher()
    first, second = _racing_batches(harness, one, two)
    assert first == ["website:race-x", "website:race-y"], first
    assert second == ["website:race-y", "website:race-x"], second
    # One of the two lost the race and ran again, whole, in another transaction. On a loaded
    # machine PostgreSQL may end a rerun too (both backends' deadlock checks can run before the
    # first victim's rollback reaches the other): each rerun is one more transaction.
    retries = one.retries + two.retries
    assert retries >= 1
    assert one.batches + two.batches == 2 + retries
    if retries == 1:  # the loser's two parts ran twice, the winner's once
        assert one.parts + two.parts == 6
    # Each part's event is stored once: two per stream, seqs 1 and 2, and the counters agree.
    rows = harness.rows(
        "SELECT stream, seq FROM events WHERE stream LIKE 'website:race-%' ORDER BY stream, seq"
    )
    x, y = "website:race-x", "website:race-y"
    assert rows == [(x, 1), (x, 2), (y, 1), (y, 2)]
    assert harness.rows(
        "SELECT stream, last_seq FROM streams WHERE stream LIKE 'website:race-%' ORDER BY stream"
    ) == [("website:race-x", 2), ("website:race-y", 2)]


def test_a_batch_that_loses_its_last_race_fails_every_part_and_stores_nothing(
    harness: Harness, site: Site, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite's writers take turns: two transactions never wait on each other")
    one, two = Batcher(retries=0), Batcher(retries=0)
    first, second = _racing_batches(harness, one, two)
    lost, won = (first, second) if isinstance(first[0], Exception) else (second, first)
    # The loser's callers get the error (the sockets answer `storage_unavailable`: try again),
    # none of them a result, so none is acknowledged; the winner's parts committed.
    assert all(isinstance(r, TransactionRaced) and is_storage_failure(r) for r in lost), lost
    assert not any(isinstance(r, Exception) for r in won), won
    assert (one.retries, two.retries) == (0, 0)
    counts = harness.rows(
        "SELECT stream, count(*) FROM events WHERE stream LIKE 'website:race-%' "
        "GROUP BY stream ORDER BY stream"
    )
    assert counts == [("website:race-x", 1), ("website:race-y", 1)]
