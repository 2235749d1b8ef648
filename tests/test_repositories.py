"""Contract tests of the store's repositories (`tx.<area>`, domain/repositories/), each run on
SQLite and PostgreSQL: what one method writes, the others read back the same, on both.

The first tests write through the message path (its statements are the fastest the store has)
and read back through every other; the later ones take each repository's methods in turn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select

from causerie.actions.messages import do_send_operator_message, do_send_session_message
from causerie.actions.sessions import do_open_session
from causerie.domain.events import EventType, NewEvent, StoredEvent
from causerie.domain.files import FileRecord, PlacedFile
from causerie.domain.models import (
    AccountLink,
    Actor,
    ApiToken,
    Attachment,
    AuditEntry,
    Author,
    Conversation,
    ConversationState,
    DpaAcceptance,
    LinkPurpose,
    Login,
    Member,
    Message,
    MessageType,
    Operator,
    PageView,
    Role,
    Scope,
    Session,
    SessionState,
    Website,
)
from causerie.domain.ports import Tx
from causerie.domain.retention import Rule
from causerie.domain.shield import network_key
from causerie.store.schema.shield import network_stats
from causerie.tokens import new_id
from tests.conftest import ORIGIN, Harness, Site

R = TypeVar("R")


def _session_id(harness: Harness, site: Site, ip: str = "203.0.113.7") -> str:
    opened = harness.run(
        do_open_session(
            harness.rt,
            website_id=site.website_id,
            token=None,
            page=PageView(url="https://shop.example/a", title="A"),
            ip=ip,
            origin=ORIGIN,
        )
    )
    return opened.session.id


def test_a_message_and_its_rows_read_back_as_written(harness: Harness, site: Site) -> None:
    rt = harness.rt
    session_id = _session_id(harness, site)
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
    session_id = _session_id(harness, site)
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
    session_id = _session_id(harness, site)
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


# -- each repository on its own --------------------------------------------------------------

T0 = datetime(2026, 3, 1, 12, 0, 0, 123_456, tzinfo=UTC)


def _in_tx(harness: Harness, work: Callable[[Tx], Awaitable[R]]) -> R:
    async def run() -> R:
        async with harness.rt.store.transaction() as tx:
            return await work(tx)

    return harness.run(run())


def _session(website_id: str, **changes: Any) -> Session:
    values: dict[str, Any] = {
        "id": new_id(),
        "website_id": website_id,
        "state": SessionState.TEMPORARY,
        "created_at": T0,
        "last_access_at": T0,
        "ip": "203.0.113.9",
        "ip_seen_at": T0,
        "user_agent": "UA",
        "locale": "fr",
        "timezone": "Europe/Paris",
        "page_url": "https://shop.example/",
        "page_title": "Shop",
        "page_referrer": "",
    }
    values.update(changes)
    return Session(**values)


def _conversation(session: Session, **changes: Any) -> Conversation:
    values: dict[str, Any] = {
        "id": new_id(),
        "website_id": session.website_id,
        "session_id": session.id,
        "state": ConversationState.OPEN,
        "assignee_id": None,
        "created_at": T0,
        "updated_at": T0,
        "last_message_at": T0,
    }
    values.update(changes)
    return Conversation(**values)


def _message(conversation: Conversation, n: int, author: Author = Author.VISITOR) -> Message:
    return Message(
        id=new_id(),
        conversation_id=conversation.id,
        author=author,
        type=MessageType.TEXT,
        body=f"body {n}",
        client_id=f"c{n}",
        created_at=T0 + timedelta(seconds=n),
    )


def test_websites_round_trip_update_and_delete(harness: Harness) -> None:
    website = Website(new_id(), "Shop", ("https://a.example",), {"color": "#123456"}, T0)
    session = _session(website.id)

    async def write(tx: Tx) -> None:
        await tx.websites.insert(website)
        await tx.sessions.insert(session, "hash-1")

    _in_tx(harness, write)

    async def read(tx: Tx) -> None:
        assert await tx.websites.get(website.id) == website
        assert website in await tx.websites.list_all()
        assert await tx.websites.get_with_session(website.id, "hash-1") == (website, session)
        assert await tx.websites.get_with_session(website.id, None) == (website, None)
        assert await tx.websites.get_with_session(website.id, "unknown") == (website, None)
        assert await tx.websites.get_with_session("nope", "hash-1") == (None, None)

    _in_tx(harness, read)
    changed = replace(website, name="Shop 2", origins=("https://b.example",), settings={"x": 1})
    _in_tx(harness, lambda tx: tx.websites.update(changed))

    async def after(tx: Tx) -> None:
        assert await tx.websites.get(website.id) == changed
        # The website read with a session is the changed one at once (SQLite keeps what it
        # decoded of a website's row only while the row stays the same).
        assert await tx.websites.get_with_session(website.id, "hash-1") == (changed, session)
        # A session of another website is not this website's, whatever its token.
        other = Website(new_id(), "Other", (), {}, T0)
        await tx.websites.insert(other)
        assert await tx.websites.get_with_session(other.id, "hash-1") == (other, None)

    _in_tx(harness, after)
    settled = replace(changed, settings={"x": 2})  # one value of its JSON, nothing else
    _in_tx(harness, lambda tx: tx.websites.update(settled))
    found = _in_tx(harness, lambda tx: tx.websites.get_with_session(website.id, "hash-1"))
    assert found == (settled, session)
    assert _in_tx(harness, lambda tx: tx.websites.delete(website.id)) == 0
    assert _in_tx(harness, lambda tx: tx.websites.get(website.id)) is None
    assert _in_tx(harness, lambda tx: tx.sessions.get(session.id)) is None


def test_operators_members_and_their_credentials(harness: Harness) -> None:
    website = Website(new_id(), "Shop", (), {}, T0)
    alice = Operator(new_id(), "alice@shop.example", "Alice", T0)
    bob = Operator(new_id(), "bob@shop.example", "Bob", T0)

    async def write(tx: Tx) -> None:
        await tx.websites.insert(website)
        await tx.operators.insert(alice, "hash-a")
        await tx.operators.insert(bob, None)
        await tx.members.set_role(website.id, alice.id, Role.OWNER, T0)
        await tx.members.set_role(website.id, bob.id, Role.AGENT, T0)
        await tx.members.set_role(website.id, bob.id, Role.ADMIN, T0)  # a change, not a second

    _in_tx(harness, write)

    async def read(tx: Tx) -> None:
        assert await tx.operators.count() == 2
        assert await tx.operators.get(alice.id) == alice
        assert await tx.operators.get_by_email("bob@shop.example") == bob
        assert await tx.operators.get_password_hash(alice.id) == "hash-a"
        assert await tx.operators.get_password_hash(bob.id) is None
        assert await tx.members.get_role(bob.id, website.id) is Role.ADMIN
        assert await tx.members.list_for_operator(alice.id) == [(website, Role.OWNER)]
        assert await tx.members.list_for_website(website.id) == [
            Member(alice, Role.OWNER, pending=False),
            Member(bob, Role.ADMIN, pending=True),
        ]
        assert await tx.members.count_owners(website.id) == 1
        assert await tx.operators.list_without_website() == []

    _in_tx(harness, read)

    async def change(tx: Tx) -> None:
        await tx.operators.set_password(bob.id, "hash-b")
        await tx.operators.set_name(bob.id, "Robert")
        await tx.operators.record_login(bob.id, T0)
        assert await tx.members.delete(website.id, bob.id)
        assert not await tx.members.delete(website.id, bob.id)
        assert [o.id for o in await tx.operators.list_without_website()] == [bob.id]  # not alice

    _in_tx(harness, change)
    assert _in_tx(harness, lambda tx: tx.operators.get(bob.id)) == replace(bob, name="Robert")
    assert _in_tx(harness, lambda tx: tx.operators.get_password_hash(bob.id)) == "hash-b"
    assert _in_tx(harness, lambda tx: tx.members.get_role(bob.id, website.id)) is None
    assert harness.scalar(
        "SELECT password_is_temporary FROM operators WHERE id = :id", id=bob.id
    ) in (False, 0)


def test_logins_links_and_api_tokens(harness: Harness) -> None:
    alice = Operator(new_id(), "alice@shop.example", "Alice", T0)
    first = Login(new_id(), alice.id, T0, T0, T0 + timedelta(days=1))
    second = Login(new_id(), alice.id, T0, T0, T0 + timedelta(days=1))
    link = AccountLink(new_id(), LinkPurpose.INVITE, alice.id, T0, T0 + timedelta(hours=1))
    token = ApiToken(new_id(), alice.id, "ci", frozenset({Scope.READ}), T0, frozenset({"w1"}))

    async def write(tx: Tx) -> None:
        await tx.operators.insert(alice, "hash-a")
        await tx.logins.insert(first, "login-1")
        await tx.logins.insert(second, "login-2")
        await tx.links.insert(link, "link-1")
        await tx.api_tokens.insert(token, "token-1")

    _in_tx(harness, write)

    async def use(tx: Tx) -> None:
        assert await tx.logins.get_by_token("login-1") == first
        later = T0 + timedelta(days=2)
        await tx.logins.extend(first.id, T0 + timedelta(hours=1), later)
        assert await tx.logins.get_by_token("login-1") == replace(
            first, last_seen_at=T0 + timedelta(hours=1), expires_at=later
        )
        assert await tx.logins.delete_others(alice.id, first.id) == [second.id]
        assert await tx.logins.get_by_token("login-2") is None
        await tx.logins.delete(first.id)
        assert await tx.logins.get_by_token("login-1") is None

        assert await tx.links.get_by_token("link-1") == link
        assert await tx.links.delete(link.id)
        assert not await tx.links.delete(link.id)
        await tx.links.insert(link, "link-1")
        await tx.links.delete_all(LinkPurpose.SETUP.value, alice.id)
        assert await tx.links.get_by_token("link-1") == link  # another purpose: kept
        await tx.links.delete_all(LinkPurpose.INVITE.value)
        assert await tx.links.get_by_token("link-1") is None

        assert await tx.api_tokens.get_by_token("token-1") == token
        await tx.api_tokens.touch(token.id, T0 + timedelta(minutes=1))
        touched = replace(token, last_used_at=T0 + timedelta(minutes=1))
        assert await tx.api_tokens.list_for_operator(alice.id) == [touched]
        assert not await tx.api_tokens.revoke("someone else", token.id, T0)
        assert await tx.api_tokens.revoke(alice.id, token.id, T0)
        assert await tx.api_tokens.get_by_token("token-1") is None
        assert await tx.api_tokens.list_for_operator(alice.id) == []

    _in_tx(harness, use)


def test_sessions_by_token_email_and_changes(harness: Harness) -> None:
    def by_id(session: Session) -> str:
        return session.id

    website = Website(new_id(), "Shop", (), {}, T0)
    other = Website(new_id(), "Other", (), {}, T0)
    ours = _session(website.id, email="Ana@Example.org", data={"plan": "pro"})
    theirs = _session(other.id, email="ana@example.org")

    async def write(tx: Tx) -> None:
        await tx.websites.insert(website)
        await tx.websites.insert(other)
        await tx.sessions.insert(ours, "t-ours")
        await tx.sessions.insert(theirs, "t-theirs")

    _in_tx(harness, write)

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

    _in_tx(harness, read)
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

    _in_tx(harness, change)
    assert _in_tx(harness, lambda tx: tx.sessions.get(ours.id)) == replace(
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
    assert _in_tx(harness, lambda tx: tx.sessions.get(theirs.id)) == replace(
        theirs, last_access_at=later
    )
    assert _in_tx(harness, lambda tx: tx.sessions.delete(theirs.id))
    assert not _in_tx(harness, lambda tx: tx.sessions.delete(theirs.id))


def test_conversations_and_messages(harness: Harness) -> None:
    website = Website(new_id(), "Shop", (), {}, T0)
    session = _session(website.id, state=SessionState.PERMANENT, nickname="Ana")
    conversation = _conversation(session)
    first, second, third = (_message(conversation, n) for n in (1, 2, 3))
    reply = _message(conversation, 4, Author.OPERATOR)

    async def write(tx: Tx) -> None:
        await tx.websites.insert(website)
        await tx.sessions.insert(session, "t")
        assert await tx.conversations.insert(conversation)
        assert not await tx.conversations.insert(replace(conversation, id=new_id()))
        for message in (first, second, third, reply):
            assert await tx.messages.insert(message)
        assert not await tx.messages.insert(replace(first, id=new_id(), body="again"))

    _in_tx(harness, write)

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

    _in_tx(harness, read)
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

    _in_tx(harness, touch)
    read_back = _in_tx(harness, lambda tx: tx.conversations.get(conversation.id))
    assert read_back is not None
    assert (read_back.unread_by_operator, read_back.operator_read_up_to) == (1, second.id)
    assert (read_back.unread_by_visitor, read_back.visitor_read_up_to) == (0, reply.id)


def test_conversation_assignees_and_the_list(harness: Harness) -> None:
    website = Website(new_id(), "Shop", (), {}, T0)
    alice = Operator(new_id(), "alice@shop.example", "Alice", T0)
    sessions = [_session(website.id, state=SessionState.PERMANENT) for _ in range(3)]
    started = [
        _conversation(s, last_message_at=T0 + timedelta(minutes=n)) for n, s in enumerate(sessions)
    ]

    async def write(tx: Tx) -> None:
        await tx.websites.insert(website)
        await tx.operators.insert(alice, None)
        for n, (session, conversation) in enumerate(zip(sessions, started, strict=True)):
            await tx.sessions.insert(session, f"t{n}")
            await tx.conversations.insert(conversation)
            await tx.messages.insert(_message(conversation, n))
        await tx.conversations.set_assignee(started[0].id, alice.id, T0)
        await tx.conversations.set_assignee(started[2].id, alice.id, T0)

    _in_tx(harness, write)

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

    _in_tx(harness, listed)


def test_events_seqs_per_stream(harness: Harness) -> None:
    def event(stream: str, n: int) -> NewEvent:
        return NewEvent(stream, EventType.READ, f"o{n}", None, T0, None, {"n": n, "é": [n]})

    async def append(tx: Tx) -> list[int]:
        return await tx.events.append([event("website:a", 1), event("website:b", 2)])

    assert _in_tx(harness, append) == [1, 1]
    assert _in_tx(harness, append) == [2, 2]

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

    _in_tx(harness, read)


def test_retention_counts_and_purges(harness: Harness) -> None:
    website = Website(new_id(), "Shop", (), {}, T0)
    old = _session(website.id, last_access_at=T0 - timedelta(days=2))
    new = _session(website.id)

    async def write(tx: Tx) -> None:
        await tx.websites.insert(website)
        await tx.sessions.insert(old, "t-old")
        await tx.sessions.insert(new, "t-new")

    _in_tx(harness, write)
    cutoff = T0 - timedelta(days=1)
    rule = Rule.TEMPORARY_SESSIONS
    assert _in_tx(harness, lambda tx: tx.retention.count_expired(rule, cutoff)) == 1
    assert _in_tx(harness, lambda tx: tx.retention.count_expired(rule, cutoff, "other")) == 0
    listed = _in_tx(harness, lambda tx: tx.retention.list_expired(rule, cutoff, 10))
    assert listed == [old.id]
    # Listed, but visited since: the rule no longer takes it.
    _in_tx(
        harness,
        lambda tx: tx.sessions.record_visit(old.id, last_access_at=T0, ip=None, page=None),
    )
    assert _in_tx(harness, lambda tx: tx.retention.purge_expired(rule, cutoff, listed)) == 0
    _in_tx(
        harness,
        lambda tx: tx.sessions.record_visit(
            old.id, last_access_at=T0 - timedelta(days=2), ip=None, page=None
        ),
    )
    assert _in_tx(harness, lambda tx: tx.retention.purge_expired(rule, cutoff, listed)) == 1
    assert _in_tx(harness, lambda tx: tx.sessions.get(old.id)) is None
    assert _in_tx(harness, lambda tx: tx.sessions.get(new.id)) == new

    ips = Rule.CHAT_IPS
    erasable = _in_tx(harness, lambda tx: tx.retention.list_expired(ips, T0, 10))
    assert _in_tx(harness, lambda tx: tx.retention.purge_expired(ips, T0, erasable)) == 1
    erased = _in_tx(harness, lambda tx: tx.sessions.get(new.id))
    assert erased == replace(new, ip=None, ip_seen_at=None)

    _in_tx(harness, lambda tx: tx.retention.record_run(T0, True, {"sessions": 1}))
    assert harness.scalar("SELECT count(*) FROM purge_runs") == 1


def test_stats_and_the_audit_log_and_dpa(harness: Harness) -> None:
    website = Website(new_id(), "Shop", (), {}, T0)
    alice = Operator(new_id(), "alice@shop.example", "Alice", T0)
    day = T0.date()

    async def write(tx: Tx) -> None:
        await tx.websites.insert(website)
        await tx.operators.insert(alice, None)
        await tx.members.set_role(website.id, alice.id, Role.OWNER, T0)
        await tx.stats.count_network("203.0.113.0/24", day, sessions=1, messages=0)
        await tx.stats.count_network("203.0.113.0/24", day, sessions=0, messages=2)

    _in_tx(harness, write)
    assert harness.rows("SELECT network, sessions, messages FROM network_stats") == [
        ("203.0.113.0/24", 1, 2)
    ]
    entries = [
        AuditEntry(
            new_id(),
            T0 + timedelta(seconds=n),
            "operator",
            alice.id,
            "x",
            website.id,
            "website",
            website.id,
            {"n": n},
        )
        for n in range(3)
    ]
    server_wide = AuditEntry(
        new_id(), T0 - timedelta(seconds=1), "operator", alice.id, "login", None, "login", "l1"
    )
    elsewhere = AuditEntry(new_id(), T0, "operator", "bob", "login", None, "login", "l2")
    acceptance = DpaAcceptance(new_id(), website.id, "2026-01", alice.id, T0)

    async def audit(tx: Tx) -> None:
        for entry in (*entries, server_wide, elsewhere):
            await tx.audit.insert(entry)
        await tx.dpa.insert(acceptance)

    _in_tx(harness, audit)

    async def read(tx: Tx) -> None:
        page = await tx.audit.list_page(
            website.id, action=None, actor_id=None, before=None, limit=10
        )
        assert page == entries[::-1]  # the website's own entries only
        cursor = (entries[1].at, entries[1].id)
        assert await tx.audit.list_page(
            website.id, action="x", actor_id=alice.id, before=cursor, limit=10
        ) == [entries[0]]
        assert await tx.dpa.list_for_website(website.id) == [
            replace(acceptance, operator_name="Alice")
        ]
        assert await tx.stats.daily_counts(website.id, T0 - timedelta(days=1)) == []

    _in_tx(harness, read)


def test_files_with_their_messages_orphans_and_expiry(harness: Harness) -> None:
    website = Website(new_id(), "Shop", (), {}, T0)
    session = _session(website.id, state=SessionState.PERMANENT)
    conversation = _conversation(session)
    text, carrier = _message(conversation, 1), _message(conversation, 2)
    carrier = replace(carrier, type=MessageType.FILE, body="a.png")
    record = FileRecord(
        id=new_id(),
        message_id=carrier.id,
        name="a.png",
        size=1234,
        content_type="image/png",
        store_key="a" * 24,
        thumbnail_key="b" * 24,
        created_at=T0,
    )
    later = replace(record, id=new_id(), store_key="c" * 24, thumbnail_key=None)
    later = replace(later, created_at=T0 + timedelta(days=2), message_id=None)

    async def write(tx: Tx) -> None:
        await tx.websites.insert(website)
        await tx.sessions.insert(session, "t")
        assert await tx.conversations.insert(conversation)
        for message in (text, carrier):
            assert await tx.messages.insert(message)
        await tx.files.insert(record)

    _in_tx(harness, write)
    attachment = Attachment(record.id, "a.png", 1234, "image/png", has_thumbnail=True)

    async def read(tx: Tx) -> None:
        assert await tx.messages.get(conversation.id, carrier.id) == replace(
            carrier, file=attachment
        )
        assert await tx.messages.get(conversation.id, text.id) == text
        page = await tx.messages.list_page(conversation.id, limit=5, include_notes=False)
        assert page == [text, replace(carrier, file=attachment)]
        placed = PlacedFile(record, conversation.id, website.id, session.id, "file")
        assert await tx.files.get_placed(record.id) == placed
        assert await tx.files.get_placed("unknown") is None
        assert await tx.files.list_for_sessions([session.id]) == [placed]
        assert await tx.files.list_for_sessions(["unknown"]) == []
        assert await tx.files.known_keys(["a" * 24, "b" * 24, "z" * 24]) == {"a" * 24, "b" * 24}
        assert await tx.files.take_orphans(10) == []  # its message is there
        assert await tx.files.count_expiring(T0, None, None) == 1
        assert await tx.files.count_expiring(T0, "another", None) == 0
        assert await tx.files.count_expiring(T0, website.id, T0) == 0

    _in_tx(harness, read)

    async def expire(tx: Tx) -> None:
        assert await tx.files.expire(T0, T0, 10, website.id, None) == (1, ["a" * 24, "b" * 24])
        assert await tx.files.expire(T0, T0, 10, None, None) == (0, [])
        message = await tx.messages.get(conversation.id, carrier.id)
        assert message is not None and message.file == replace(
            attachment, has_thumbnail=False, expired=True
        )
        assert await tx.files.known_keys(["a" * 24]) == set()

    _in_tx(harness, expire)

    async def orphans(tx: Tx) -> None:
        await tx.files.insert(later)  # a row whose message is gone already
        assert await tx.sessions.delete(session.id)  # the message goes, the row stays, orphan
        assert sorted(await tx.files.take_orphans(10)) == ["c" * 24]
        assert await tx.files.take_orphans(10) == []
        assert await tx.files.get_placed(record.id) is None

    _in_tx(harness, orphans)
