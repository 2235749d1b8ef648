"""Contract tests of the store's repositories (`tx.<area>`, domain/repositories/), each run on
SQLite and PostgreSQL: what one method writes, the others read back the same, on both. Here the
message path writes (its statements are the fastest the store has) and every other repository
reads back. Shared rows and helpers: tests/repositories_support.py.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from causerie.actions.messages import do_send_operator_message, do_send_session_message
from causerie.domain.events import EventType, NewEvent
from causerie.domain.models import (
    Actor,
    ConversationState,
    Scope,
    SessionState,
)
from causerie.domain.shield import network_key
from causerie.store.schema.shield import network_stats
from tests.conftest import Harness, Site
from tests.repositories_support import (
    open_session_id,
)


def test_a_message_and_its_rows_read_back_as_written(harness: Harness, site: Site) -> None:
    rt = harness.rt
    session_id = open_session_id(harness, site)
    harness.clock.advance(timedelta(microseconds=123_457))
    sent = harness.run(do_send_session_message(rt, session_id, client_id="c1", body="héllo"))
    at = harness.clock.now()

    async def read() -> None:
        async with rt.store.read() as tx:
            message = await tx.messages.get(sent.message.conversation_id, sent.message.id)
            assert message == sent.message
            session, conversation = await tx.sessions.get_with_conversation(session_id)
            assert session == await tx.sessions.get(session_id)
            assert session is not None and session.state is SessionState.PERMANENT
            assert session.permanent_since == at
            assert conversation == await tx.conversations.get_by_session(session_id)
            assert conversation is not None
            assert (conversation.created_at, conversation.last_message_at) == (at, at)
            assert (conversation.unread_by_operator, conversation.unread_by_visitor) == (1, 0)
            events = await tx.events.list_after(f"session:{session_id}", 0, 10)
            assert [(e.seq, e.type, e.created_at) for e in events] == [
                (1, EventType.CONVERSATION_UPDATED, at),
                (2, EventType.SESSION_UPDATED, at),
                (3, EventType.MESSAGE_CREATED, at),
            ]
            assert events[2].object_id == sent.message.id and events[2].data == {}

    harness.run(read())

    async def counts() -> list[tuple[object, ...]]:
        async with rt.store.read() as tx:
            result = await tx.db.execute(select(network_stats))  # type: ignore[attr-defined]
            return [tuple(row) for row in result]

    # The session and the message counted on one row: the same day, whoever wrote it.
    network = network_key(rt.settings.secret_key, "203.0.113.7")  # a keyed hash (P18)
    assert harness.run(counts()) == [(network, at.date(), 1, 1)]


def test_events_of_one_transaction_take_consecutive_seqs_per_stream(
    harness: Harness, site: Site
) -> None:
    rt = harness.rt
    session_id = open_session_id(harness, site)
    at = harness.clock.now()

    def event(stream: str, n: int) -> NewEvent:
        owner = session_id if stream.startswith("session:") else None
        return NewEvent(stream, EventType.READ, f"o{n}", session_id, at, owner, {"n": n})

    ours, website = f"session:{session_id}", f"website:{site.website_id}"

    async def append(streams: list[str]) -> list[int]:
        async with rt.store.transaction() as tx:
            return await tx.events.append([event(s, n) for n, s in enumerate(streams)])

    assert harness.run(append([ours, website, ours])) == [1, 1, 2]
    assert harness.run(append([website, website, ours])) == [2, 3, 3]

    async def data(stream: str) -> list[tuple[int, dict[str, object]]]:
        async with rt.store.read() as tx:
            return [(e.seq, e.data) for e in await tx.events.list_after(stream, 0, 10)]

    assert harness.run(data(ours)) == [(1, {"n": 0}), (2, {"n": 2}), (3, {"n": 2})]
    assert harness.run(data(website)) == [(1, {"n": 1}), (2, {"n": 0}), (3, {"n": 1})]
    assert harness.rows("SELECT stream, session_id FROM streams ORDER BY stream") == [
        (ours, session_id),
        (website, None),
    ]


def test_a_resolved_conversation_reopens_with_its_counts(harness: Harness, site: Site) -> None:
    rt = harness.rt
    session_id = open_session_id(harness, site)
    agent = Actor("operator", site.operator_ids["agent"], frozenset(Scope))
    first = harness.run(do_send_session_message(rt, session_id, client_id="v1", body="hi"))
    conversation_id = first.message.conversation_id
    harness.run(
        do_send_operator_message(
            rt, agent, client_id="o1", body="hello", conversation_id=conversation_id
        )
    )
    harness.execute(
        "UPDATE conversations SET state = 'resolved' WHERE id = :id", id=conversation_id
    )
    harness.run(do_send_session_message(rt, session_id, client_id="v2", body="again"))

    async def read() -> None:
        async with rt.store.read() as tx:
            conversation = await tx.conversations.get(conversation_id)
            assert conversation is not None
            assert conversation.state is ConversationState.OPEN
            assert (conversation.unread_by_operator, conversation.unread_by_visitor) == (2, 1)
            events = await tx.events.list_after(f"website:{site.website_id}", 0, 20)
            updates = [e for e in events if e.type is EventType.CONVERSATION_UPDATED]
            assert len(updates) == 2  # started, then reopened

    harness.run(read())
