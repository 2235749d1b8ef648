"""Visitors' messages of one batch stored in bulk (actions/message_batch.py): checks first, each
refused message alone, then the others' writes together; what they share written once. The
result must be what one part per message gives: the judge is the rows, the event log and what
the hub hands out.

On both databases, through the production actions: sends gathered on one event loop form one
batch, as frames that arrive together on a server's sockets do.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from causerie.actions import message_batch
from causerie.actions.events import get_replay
from causerie.actions.messages import (
    Sent,
    do_send_operator_message,
    do_send_session_message,
    do_store_message,
)
from causerie.domain.errors import Conflict, Forbidden, Unauthenticated
from causerie.domain.events import Stream
from causerie.domain.models import Actor, MessageType, Session
from causerie.domain.ports import Tx
from causerie.store.database import SqliteStore
from tests.conftest import Harness, Site
from tests.support import Heard, batcher_of, open_sessions


async def _send(harness: Harness, site: Site, session_id: str, client_id: str, body: str) -> Any:
    return await do_send_session_message(
        harness.rt, session_id, client_id=client_id, body=body, website_id=site.website_id
    )


def _batch(harness: Harness, site: Site, sends: list[tuple[str, str, str]]) -> list[Any]:
    """The sends `(session, client_id, body)` in one batch: each one's `Sent` or error."""

    async def gathered() -> list[Any]:
        return list(
            await asyncio.gather(
                *(_send(harness, site, s, c, b) for s, c, b in sends), return_exceptions=True
            )
        )

    return harness.run(gathered())


def _started(harness: Harness, site: Site, count: int) -> list[str]:
    """`count` sessions, each with its conversation started by a first message (so permanent)."""
    sessions = open_sessions(harness, site.website_id, count)
    first = _batch(harness, site, [(s, f"first-{n}", "hi") for n, s in enumerate(sessions)])
    assert all(isinstance(s, Sent) and s.created for s in first), first
    return sessions


def _log(harness: Harness, stream: Stream) -> list[tuple[int, str]]:
    return harness.run(get_replay(harness.rt, stream, 0)).frames


def _contiguous(frames: list[tuple[int, str]]) -> bool:
    return [seq for seq, _ in frames] == list(range(1, len(frames) + 1))


def _bodies_after(harness: Harness, session_id: str, after: str) -> list[str]:
    rows = harness.rows(
        "SELECT m.body FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        "WHERE c.session_id = :s ORDER BY m.seq",
        s=session_id,
    )
    bodies = [row[0] for row in rows]
    return bodies[bodies.index(after) + 1 :]


def test_two_conversations_and_several_messages_of_one_are_stored_in_bulk_as_parts_would(
    harness: Harness, site: Site
) -> None:
    one, two = _started(harness, site, 2)
    rt = harness.rt
    heard = Heard()
    harness.run(rt.hub.follow(Stream.of_website(site.website_id).key, heard))
    unread = dict(harness.rows("SELECT session_id, unread_by_operator FROM conversations"))
    counted = harness.scalar(
        "SELECT sum(messages_visitor) FROM report_hours WHERE dimension = 'website'"
    )
    networked = harness.scalar("SELECT sum(messages) FROM network_stats")
    batcher = batcher_of(harness)
    before = batcher.batches, batcher.bulk_parts, batcher.reruns
    sends = [(one, "a1", "one 1"), (two, "b1", "two 1"), (one, "a2", "one 2"), (one, "a3", "one 3")]
    sends.append((two, "b2", "two 2"))
    results = _batch(harness, site, sends)
    assert all(isinstance(r, Sent) and r.created for r in results), results
    # One transaction, every message in the bulk form, none run again.
    assert (batcher.batches, batcher.bulk_parts, batcher.reruns) == (
        before[0] + 1,
        before[1] + 5,
        before[2],
    )
    # Each conversation's messages in the order they were sent, with the seqs that say so.
    assert _bodies_after(harness, one, "hi") == ["one 1", "one 2", "one 3"]
    assert _bodies_after(harness, two, "hi") == ["two 1", "two 2"]
    # The website's stream and each session's: no gap, the messages in the batch's order.
    website = _log(harness, Stream.of_website(site.website_id))
    assert _contiguous(website)
    created = [text for _, text in website if "message.created" in text][-5:]
    assert [next(b for _, _, b in sends if f'"body":"{b}"' in t) for t in created] == [
        b for _, _, b in sends
    ]
    for session, bodies in ((one, ["one 1", "one 2", "one 3"]), (two, ["two 1", "two 2"])):
        own = _log(harness, Stream.of_session(session))
        assert _contiguous(own)
        texts = [t for _, t in own if "message.created" in t][-len(bodies) :]
        assert all(f'"body":"{b}"' in t for b, t in zip(bodies, texts, strict=True))
    # The acks carry what the events carry.
    assert all(
        f'"body":"{b}"' in r.message_text() for r, (_, _, b) in zip(results, sends, strict=True)
    )
    # The conversations touched once per message, counted once per message.
    after = dict(harness.rows("SELECT session_id, unread_by_operator FROM conversations"))
    assert (after[one] - unread[one], after[two] - unread[two]) == (3, 2)
    assert (
        harness.scalar("SELECT sum(messages_visitor) FROM report_hours WHERE dimension = 'website'")
        == counted + 5
    )
    assert harness.scalar("SELECT sum(messages) FROM network_stats") == networked + 5
    harness.run(heard.until_bodies(5))
    assert heard.bodies() == [b for _, _, b in sends]


def test_a_message_refused_by_a_check_fails_alone_and_the_others_are_stored_in_bulk(
    harness: Harness, site: Site
) -> None:
    first, gone, second = _started(harness, site, 3)
    harness.execute("DELETE FROM sessions WHERE id = :id", id=gone)  # its events go with it
    website = Stream.of_website(site.website_id)
    last = _log(harness, website)[-1][0]
    batcher = batcher_of(harness)
    before = batcher.batches, batcher.bulk_parts, batcher.reruns
    results = _batch(
        harness,
        site,
        [(first, "a1", "one"), (gone, "g1", "to a deleted session"), (second, "b1", "two")],
    )
    assert isinstance(results[0], Sent) and isinstance(results[2], Sent)
    assert isinstance(results[1], Unauthenticated) and results[1].code == "invalid_session"
    # Refused in the bulk form's checks, before anything was written: no rerun.
    assert (batcher.batches, batcher.bulk_parts, batcher.reruns) == (
        before[0] + 1,
        before[1] + 3,
        before[2],
    )
    assert _bodies_after(harness, first, "hi") == ["one"]
    assert _bodies_after(harness, second, "hi") == ["two"]
    assert not harness.scalar("SELECT count(*) FROM messages WHERE body = 'to a deleted session'")
    # The batch's two messages on the website's stream: the seqs after the last, without a gap.
    assert [seq for seq, _ in _log(harness, website)][-2:] == [last + 1, last + 2]


def _refuse_body(harness: Harness, body: str) -> None:
    """A constraint of the test's own: the database refuses a message with this body."""
    if isinstance(harness.rt.store, SqliteStore):
        harness.execute(
            "CREATE TRIGGER refuse_body BEFORE INSERT ON messages "
            f"WHEN NEW.body = '{body}' BEGIN SELECT RAISE(ABORT, 'refused body'); END"
        )
        return
    harness.execute(
        "CREATE FUNCTION refuse_body() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF NEW.body = '{body}' THEN RAISE EXCEPTION 'refused body'; END IF; "
        "RETURN NEW; END $$"
    )
    harness.execute(
        "CREATE TRIGGER refuse_body BEFORE INSERT ON messages "
        "FOR EACH ROW EXECUTE FUNCTION refuse_body()"
    )


def test_when_a_bulk_write_fails_the_batch_runs_again_part_by_part_and_stores_the_rest(
    harness: Harness, site: Site
) -> None:
    first, second, third = _started(harness, site, 3)
    _refuse_body(harness, "boom")
    rt = harness.rt
    heard = Heard()
    harness.run(rt.hub.follow(Stream.of_website(site.website_id).key, heard))
    counted = harness.scalar(
        "SELECT sum(messages_visitor) FROM report_hours WHERE dimension = 'website'"
    )
    batcher = batcher_of(harness)
    before = batcher.batches, batcher.reruns
    results = _batch(
        harness, site, [(first, "a1", "one"), (second, "b1", "boom"), (third, "c1", "three")]
    )
    # The bulk form's rows refused at the batch's end: rolled back whole, run again with a
    # savepoint per message, the refused one undone alone.
    assert (batcher.batches - before[0], batcher.reruns - before[1]) == (2, 1)
    assert isinstance(results[0], Sent) and isinstance(results[2], Sent)
    assert isinstance(results[1], Exception) and not isinstance(results[1], Sent)
    assert _bodies_after(harness, first, "hi") == ["one"]
    assert _bodies_after(harness, second, "hi") == []
    assert _bodies_after(harness, third, "hi") == ["three"]
    # Nothing of the refused message, nothing counted twice.
    frames = _log(harness, Stream.of_website(site.website_id))
    assert _contiguous(frames)
    assert not any('"boom"' in text for _, text in frames)
    assert (
        harness.scalar("SELECT sum(messages_visitor) FROM report_hours WHERE dimension = 'website'")
        == counted + 2
    )
    harness.run(heard.until_bodies(2))
    assert heard.bodies() == ["one", "three"]


def test_the_same_client_id_twice_in_one_bulk_batch_stores_one_message(
    harness: Harness, site: Site
) -> None:
    session, other = _started(harness, site, 2)
    batcher = batcher_of(harness)
    before = batcher.bulk_parts, batcher.reruns
    one, between, two = _batch(
        harness,
        site,
        [(session, "same", "hello"), (other, "x1", "between"), (session, "same", "hello")],
    )
    assert (batcher.bulk_parts - before[0], batcher.reruns - before[1]) == (3, 0)
    assert isinstance(one, Sent) and isinstance(two, Sent) and isinstance(between, Sent)
    assert (one.created, between.created, two.created) == (True, True, False)
    assert one.message.id == two.message.id
    assert _bodies_after(harness, session, "hi") == ["hello"]
    created = [
        t for _, t in _log(harness, Stream.of_website(site.website_id)) if "message.created" in t
    ]
    assert sum('"client_id":"same"' in text for text in created) == 1


def test_a_client_id_stored_by_an_earlier_batch_is_found_by_a_bulk_batch(
    harness: Harness, site: Site
) -> None:
    first, second = _started(harness, site, 2)
    (original,) = _batch(harness, site, [(first, "again", "hello")])
    assert isinstance(original, Sent) and original.created
    again, other = _batch(harness, site, [(first, "again", "hello"), (second, "new", "hi there")])
    assert isinstance(again, Sent) and not again.created
    assert again.message.id == original.message.id
    assert isinstance(other, Sent) and other.created
    assert _bodies_after(harness, first, "hi") == ["hello"]
    assert _bodies_after(harness, second, "hi") == ["hi there"]
    assert _contiguous(_log(harness, Stream.of_website(site.website_id)))


def test_a_client_id_an_agent_used_is_refused_to_a_visitor_alone_in_a_bulk_batch(
    harness: Harness, site: Site
) -> None:
    first, second = _started(harness, site, 2)
    agent = Actor("operator", operator_id=site.operator_ids["agent"])
    harness.run(
        do_send_operator_message(
            harness.rt,
            agent,
            client_id="taken",
            body="a private note",
            type_="note",
            session_id=first,
        )
    )
    refused, other = _batch(harness, site, [(first, "taken", "hello"), (second, "new", "hi there")])
    assert isinstance(refused, Conflict) and refused.code == "client_id_taken"
    assert isinstance(other, Sent) and other.created
    assert _bodies_after(harness, first, "hi") == ["a private note"]
    assert _bodies_after(harness, second, "hi") == ["hi there"]
    assert _contiguous(_log(harness, Stream.of_website(site.website_id)))


def test_a_first_message_amid_a_bulk_run_keeps_the_batch_s_order(
    harness: Harness, site: Site
) -> None:
    one, two = _started(harness, site, 2)
    (new,) = open_sessions(harness, site.website_id, 1)
    batcher = batcher_of(harness)
    before = batcher.batches, batcher.bulk_parts, batcher.reruns
    sends = [
        (one, "a1", "one"),
        (new, "n1", "starts"),
        (two, "b1", "two"),
        (one, "a2", "one again"),
    ]
    results = _batch(harness, site, sends)
    assert all(isinstance(r, Sent) and r.created for r in results), results
    # The bulk form stores the first and stops at `new`, whose first message starts its
    # conversation as its own part; the last two form a bulk run again.
    assert (batcher.batches, batcher.bulk_parts, batcher.reruns) == (
        before[0] + 1,
        before[1] + 3,
        before[2],
    )
    website = _log(harness, Stream.of_website(site.website_id))
    assert _contiguous(website)
    created = [text for _, text in website if "message.created" in text][-4:]
    assert all(f'"body":"{b}"' in t for (_, _, b), t in zip(sends, created, strict=True))
    assert any("conversation.updated" in text for _, text in website[-8:])


@pytest.mark.parametrize("count", [2, 20])
def test_bulk_batches_of_any_size_leave_the_same_rows_as_parts(
    harness: Harness, site: Site, count: int
) -> None:
    sessions = _started(harness, site, count)
    results = _batch(harness, site, [(s, "next", f"next {n}") for n, s in enumerate(sessions)])
    assert all(isinstance(r, Sent) and r.created for r in results), results
    for n, session in enumerate(sessions):
        assert _bodies_after(harness, session, "hi") == [f"next {n}"]
    assert _contiguous(_log(harness, Stream.of_website(site.website_id)))


def test_a_bulk_batch_counts_each_message_under_its_conversation_s_label(
    harness: Harness, site: Site
) -> None:
    labelled, plain = _started(harness, site, 2)
    harness.execute(
        "UPDATE conversations SET labels = '[\"vip\"]' WHERE session_id = :s", s=labelled
    )
    count = "SELECT coalesce(sum(messages_visitor), 0) FROM report_hours WHERE dimension = :d"
    before = harness.scalar(count, d="website"), harness.scalar(count, d="label")
    results = _batch(
        harness,
        site,
        [(labelled, "l1", "one"), (plain, "p1", "two"), (labelled, "l2", "three")],
    )
    assert all(isinstance(r, Sent) and r.created for r in results), results
    assert harness.scalar(count, d="website") == before[0] + 3
    assert harness.scalar(count, d="label") == before[1] + 2
    vip = "SELECT sum(messages_visitor) FROM report_hours WHERE dimension = 'label' AND key = 'vip'"
    assert harness.scalar(vip) == 2


def _own_parts(harness: Harness, site: Site, bulk: Any, sends: list[tuple[str, str]]) -> list[Any]:
    """Sends through the batcher with a bulk form of the test's own: each part stores its
    message as a part does (`do_store_message`)."""
    rt = harness.rt

    def part_for(session_id: str, body: str) -> Any:
        async def part(tx: Tx) -> Sent:
            session, conversation = await tx.sessions.get_with_conversation(session_id)
            assert session is not None
            return await do_store_message(
                rt, tx, session, conversation, None, MessageType.TEXT, body, body
            )

        return part

    async def gathered() -> list[Any]:
        runs = (
            batcher_of(harness).run(rt.store, site.website_id, part_for(s, b), bulk=(bulk, b))
            for s, b in sends
        )
        return list(await asyncio.gather(*runs, return_exceptions=True))

    return harness.run(gathered())


def test_a_bulk_form_that_fails_before_writing_leaves_its_parts_to_run_one_by_one(
    harness: Harness, site: Site
) -> None:
    first, second = _started(harness, site, 2)
    given: list[list[str]] = []

    async def gives_up(tx: Tx, items: list[str]) -> list[tuple[bool, Any]]:
        given.append(list(items))
        raise RuntimeError("the bulk form gave up before writing")

    batcher = batcher_of(harness)
    before = batcher.batches, batcher.reruns, batcher.bulk_parts
    results = _own_parts(harness, site, gives_up, [(first, "x1"), (second, "x2")])
    assert given == [["x1", "x2"]]
    # Undone in memory: the parts ran one by one in the same transaction.
    assert (batcher.batches, batcher.reruns, batcher.bulk_parts) == (
        before[0] + 1,
        before[1],
        before[2],
    )
    assert all(isinstance(r, Sent) and r.created for r in results), results
    assert _bodies_after(harness, first, "hi") == ["x1"]
    assert _bodies_after(harness, second, "hi") == ["x2"]


def test_a_bulk_form_that_fails_after_writing_runs_the_batch_again_part_by_part(
    harness: Harness, site: Site
) -> None:
    first, second = _started(harness, site, 2)
    rt = harness.rt

    async def fails_after_writing(tx: Tx, items: list[str]) -> list[tuple[bool, Any]]:
        _, conversation = await tx.sessions.get_with_conversation(first)
        assert conversation is not None
        # A statement sent at once (a reopening touch is never held back), then a failure.
        await tx.conversations.touch(conversation.id, rt.clock.now(), reopen=True, unread_for=None)
        raise RuntimeError("the bulk form failed after writing")

    batcher = batcher_of(harness)
    before = batcher.batches, batcher.reruns, batcher.bulk_parts
    results = _own_parts(harness, site, fails_after_writing, [(first, "y1"), (second, "y2")])
    # Rolled back whole, run again with a savepoint per part.
    assert (batcher.batches, batcher.reruns, batcher.bulk_parts) == (
        before[0] + 2,
        before[1] + 1,
        before[2],
    )
    assert all(isinstance(r, Sent) and r.created for r in results), results
    assert _bodies_after(harness, first, "hi") == ["y1"]
    assert _bodies_after(harness, second, "hi") == ["y2"]
    assert _contiguous(_log(harness, Stream.of_website(site.website_id)))


def _spy(monkeypatch: pytest.MonkeyPatch, name: str) -> list[str]:
    """The session ids `message_batch.<name>` is called with, the real check still run."""
    real = getattr(message_batch, name)
    seen: list[str] = []

    async def counted(*args: Any) -> None:
        session = next(a for a in args if isinstance(a, (Session, str)))
        seen.append(session.id if isinstance(session, Session) else session)
        await real(*args)

    monkeypatch.setattr(message_batch, name, counted)
    return seen


def test_a_sessions_consent_and_rules_are_checked_once_a_run_and_its_limits_each_message(
    harness: Harness, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = _started(harness, site, 2)
    consent = _spy(monkeypatch, "check_consent")
    rates = _spy(monkeypatch, "check_visitor_message_rate")
    sends = [(one, "a1", "one 1"), (two, "b1", "two 1"), (one, "a2", "one 2"), (one, "a3", "3")]
    results = _batch(harness, site, sends)
    assert all(isinstance(r, Sent) and r.created for r in results), results
    assert consent == [one, two]
    assert rates == [one, two, one, one]


def test_after_a_refusal_a_sessions_next_message_is_checked_again(
    harness: Harness, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, refused = _started(harness, site, 2)
    rt = harness.rt

    async def ask_consent(tx: Tx) -> None:
        # The website asks for consent now; only `one` gave it.
        website = await tx.websites.get(site.website_id)
        assert website is not None
        settings = {**website.settings, "consent_required": True, "consent_version": 1}
        await tx.websites.update(replace(website, settings=settings))
        await tx.sessions.set_consent(one, 1, harness.clock.now())

    harness.run(_in_transaction(harness, ask_consent))
    rt.websites.pop(site.website_id, None)
    consent = _spy(monkeypatch, "check_consent")
    results = _batch(harness, site, [(one, "a1", "1"), (refused, "r1", "no"), (one, "a2", "2")])
    assert isinstance(results[0], Sent) and isinstance(results[2], Sent)
    assert isinstance(results[1], Forbidden) and results[1].code == "consent_required"
    # A refusal in between: whatever it changed (a network's bot score), the next send sees it.
    assert consent == [one, refused, one]
    assert _bodies_after(harness, one, "hi") == ["1", "2"]


async def _in_transaction(harness: Harness, change: Any) -> None:
    async with harness.rt.store.transaction() as tx:
        await change(tx)
