"""The repositories of chat, on SQLite and PostgreSQL: sessions, conversations and messages,
assignees and the list, events' seqs (domain/repositories/). Shared rows and helpers:
tests/repositories_support.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from causerie.domain.events import EventType, NewEvent, StoredEvent
from causerie.domain.models import (
    Author,
    ConversationState,
    Operator,
    PageView,
    Session,
    SessionState,
    Website,
)
from causerie.domain.ports import Tx
from causerie.tokens import new_id
from tests.conftest import Harness
from tests.repositories_support import (
    T0,
    in_tx,
    make_conversation,
    make_message,
    make_session,
)


def test_sessions_by_token_email_and_changes(harness: Harness) -> None:
    def by_id(session: Session) -> str:
        return session.id

    website = Website(new_id(), "Shop", (), {}, T0)
    other = Website(new_id(), "Other", (), {}, T0)
    ours = make_session(website.id, email="Ana@Example.org", data={"plan": "pro"})
    theirs = make_session(other.id, email="ana@example.org")

    async def write(tx: Tx) -> None:
        await tx.websites.insert(website)
        await tx.websites.insert(other)
        await tx.sessions.insert(ours, "t-ours")
        await tx.sessions.insert(theirs, "t-theirs")

    in_tx(harness, write)

    async def read(tx: Tx) -> None:
        assert await tx.sessions.get(ours.id) == ours
        assert await tx.sessions.get_by_token("t-ours") == ours
        assert await tx.sessions.get_by_token("t-ours", website.id) == ours
        assert await tx.sessions.get_by_token("t-ours", other.id) is None
        assert await tx.sessions.get_many([ours.id, theirs.id, "nope"]) == {
            ours.id: ours,
            theirs.id: theirs,
        }
        assert await tx.sessions.get_many([]) == {}
        assert await tx.sessions.get_with_conversation(ours.id) == (ours, None)
        assert await tx.sessions.get_with_conversation("nope") == (None, None)
        found = await tx.sessions.find_by_email(" ANA@example.ORG ", None)
        assert sorted(found, key=by_id) == sorted([ours, theirs], key=by_id)
        assert await tx.sessions.find_by_email("ana@example.org", [other.id]) == [theirs]

    in_tx(harness, read)
    later = T0 + timedelta(minutes=5)
    page = PageView("https://shop.example/b", "B", "https://ref.example", None, "UTC", "UA2")

    async def change(tx: Tx) -> None:
        await tx.sessions.record_visit(ours.id, last_access_at=later, ip="198.51.100.1", page=page)
        await tx.sessions.record_visit(theirs.id, last_access_at=later, ip=None, page=None)
        await tx.sessions.make_permanent(ours.id, later)
        await tx.sessions.make_permanent(ours.id, later + timedelta(days=1))  # already: kept
        await tx.sessions.update_profile(
            ours.id, nickname="Ana", email=None, phone="+33 1", data={"a": [1, "é"]}
        )
        await tx.sessions.set_consent(ours.id, 3, later)

    in_tx(harness, change)
    assert in_tx(harness, lambda tx: tx.sessions.get(ours.id)) == replace(
        ours,
        last_access_at=later,
        ip="198.51.100.1",
        ip_seen_at=later,
        page_url=page.url,
        page_title=page.title,
        page_referrer=page.referrer,
        user_agent="UA2",
        timezone="UTC",  # the locale was not said: the known one stays
        state=SessionState.PERMANENT,
        permanent_since=later,
        nickname="Ana",
        email=None,
        phone="+33 1",
        data={"a": [1, "é"]},
        consent_version=3,
        consent_at=later,
    )
    assert in_tx(harness, lambda tx: tx.sessions.get(theirs.id)) == replace(
        theirs, last_access_at=later
    )
    assert in_tx(harness, lambda tx: tx.sessions.delete(theirs.id))
    assert not in_tx(harness, lambda tx: tx.sessions.delete(theirs.id))


def test_conversations_and_messages(harness: Harness) -> None:
    website = Website(new_id(), "Shop", (), {}, T0)
    session = make_session(website.id, state=SessionState.PERMANENT, nickname="Ana")
    conversation = make_conversation(session)
    first, second, third = (make_message(conversation, n) for n in (1, 2, 3))
    reply = make_message(conversation, 4, Author.OPERATOR)

    async def write(tx: Tx) -> None:
        await tx.websites.insert(website)
        await tx.sessions.insert(session, "t")
        assert await tx.conversations.insert(conversation)
        assert not await tx.conversations.insert(replace(conversation, id=new_id()))
        for message in (first, second, third, reply):
            assert await tx.messages.insert(message)
        assert not await tx.messages.insert(replace(first, id=new_id(), body="again"))

    in_tx(harness, write)

    async def read(tx: Tx) -> None:
        assert await tx.conversations.get(conversation.id) == conversation
        assert await tx.conversations.get_by_session(session.id) == conversation
        assert await tx.conversations.get_many([conversation.id]) == {conversation.id: conversation}
        assert await tx.sessions.get_with_conversation(session.id) == (session, conversation)
        assert await tx.messages.get(conversation.id, second.id) == second
        assert await tx.messages.get("another", second.id) is None
        assert await tx.messages.get_by_client_id(conversation.id, "c1") == first
        assert await tx.messages.get_many([first.id, reply.id]) == {
            first.id: first,
            reply.id: reply,
        }
        assert await tx.messages.count(conversation.id) == 4
        latest = await tx.messages.list_page(conversation.id, limit=2, include_notes=False)
        assert latest == [third, reply]
        earlier = await tx.messages.list_page(
            conversation.id, limit=5, before=third.id, include_notes=False
        )
        assert earlier == [first, second]

    in_tx(harness, read)
    later = T0 + timedelta(minutes=1)

    async def touch(tx: Tx) -> None:
        await tx.conversations.set_state(conversation.id, ConversationState.RESOLVED, T0)
        touched = await tx.conversations.touch(
            conversation.id, later, reopen=True, unread_for=Author.OPERATOR, returning=True
        )
        assert touched == replace(
            conversation,
            updated_at=later,
            last_message_at=later,
            unread_by_operator=1,
            resolved_at=T0,  # the last resolution stays known after a reopening
        )
        assert not await tx.conversations.touch(
            conversation.id, later, reopen=False, unread_for=None
        )
        # The operator reads up to the second message: two of the visitor's remain unread...
        assert await tx.conversations.mark_read(conversation.id, Author.OPERATOR, second.id)
        # ...and a mark does not move back.
        assert not await tx.conversations.mark_read(conversation.id, Author.OPERATOR, first.id)
        assert not await tx.conversations.mark_read(conversation.id, Author.OPERATOR, "unknown")
        assert await tx.conversations.mark_read(conversation.id, Author.VISITOR, reply.id)

    in_tx(harness, touch)
    read_back = in_tx(harness, lambda tx: tx.conversations.get(conversation.id))
    assert read_back is not None
    assert (read_back.unread_by_operator, read_back.operator_read_up_to) == (1, second.id)
    assert (read_back.unread_by_visitor, read_back.visitor_read_up_to) == (0, reply.id)


def test_conversation_assignees_and_the_list(harness: Harness) -> None:
    website = Website(new_id(), "Shop", (), {}, T0)
    alice = Operator(new_id(), "alice@shop.example", "Alice", T0)
    sessions = [make_session(website.id, state=SessionState.PERMANENT) for _ in range(3)]
    started = [
        make_conversation(s, last_message_at=T0 + timedelta(minutes=n))
        for n, s in enumerate(sessions)
    ]

    async def write(tx: Tx) -> None:
        await tx.websites.insert(website)
        await tx.operators.insert(alice, None)
        for n, (session, conversation) in enumerate(zip(sessions, started, strict=True)):
            await tx.sessions.insert(session, f"t{n}")
            await tx.conversations.insert(conversation)
            await tx.messages.insert(make_message(conversation, n))
        await tx.conversations.set_assignee(started[0].id, alice.id, T0)
        await tx.conversations.set_assignee(started[2].id, alice.id, T0)

    in_tx(harness, write)

    async def page(tx: Tx, **filters: Any) -> list[str]:
        arguments: dict[str, Any] = {
            "state": None,
            "assignee": None,
            "unassigned": False,
            "query": None,
            "limit": 10,
            "after": None,
        }
        arguments.update(filters)
        found = await tx.conversations.list_page(website.id, **arguments)
        return [summary.conversation.id for summary in found]

    async def listed(tx: Tx) -> None:
        newest_first = [c.id for c in reversed(started)]
        assert await page(tx) == newest_first
        assert await page(tx, assignee=alice.id) == [started[2].id, started[0].id]
        assert await page(tx, unassigned=True) == [started[1].id]
        assert await page(tx, query="BODY 1") == [started[1].id]
        cursor = (started[2].last_message_at, started[2].id)
        assert await page(tx, after=cursor, limit=1) == [started[1].id]
        assert sorted(await tx.conversations.unassign_all(website.id, alice.id, T0)) == sorted(
            [started[0].id, started[2].id]
        )
        assert await page(tx, unassigned=True) == newest_first

    in_tx(harness, listed)


def test_events_seqs_per_stream(harness: Harness) -> None:
    def event(stream: str, n: int) -> NewEvent:
        return NewEvent(stream, EventType.READ, f"o{n}", None, T0, None, {"n": n, "é": [n]})

    async def append(tx: Tx) -> list[int]:
        return await tx.events.append([event("website:a", 1), event("website:b", 2)])

    assert in_tx(harness, append) == [1, 1]
    assert in_tx(harness, append) == [2, 2]

    async def read(tx: Tx) -> None:
        assert await tx.events.last_seq("website:a") == 2
        assert await tx.events.last_seq("website:none") == 0
        after = await tx.events.list_after("website:a", 1, 10)
        assert [(e.seq, e.object_id, e.data, e.created_at) for e in after] == [
            (2, "o1", {"n": 1, "é": [1]}, T0)
        ]
        assert await tx.events.list_after("website:a", 0, 1) == [
            StoredEvent("website:a", 1, EventType.READ, "o1", None, T0, {"n": 1, "é": [1]})
        ]

    in_tx(harness, read)
