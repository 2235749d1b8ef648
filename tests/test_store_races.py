"""Two writers at once on PostgreSQL, where transactions run side by side (SQLite's writers take
turns): a label deleted while a conversation is being given it, a conversation written to while
auto-resolve looks for idle ones, and a visitor writing while an agent resolves. Each race is made
to happen, not hoped for: the second transaction is started while the first holds its rows, and
the test waits until PostgreSQL says it is waiting on a lock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from causerie.actions.labels import do_delete_label, do_set_labels
from causerie.actions.messages import do_send_session_message
from causerie.actions.sessions import do_open_session
from causerie.domain.errors import NotFound
from causerie.domain.labels import Label
from causerie.domain.models import Actor, ConversationState, PageView, SessionState, Website
from causerie.domain.ports import Tx
from causerie.tokens import new_id
from tests.conftest import ORIGIN, Harness, Site
from tests.repositories_support import T0, in_tx, make_conversation, make_message, make_session
from tests.support import until_pg_backend


@pytest.fixture
def database_url(database_url: str) -> str:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite's writers take turns: two transactions never run side by side")
    return database_url


async def _until_one_waits_on_a_lock(harness: Harness) -> None:
    await until_pg_backend(
        harness, "wait_event_type = 'Lock'", "no transaction came to wait on the other's lock"
    )


async def _behind(
    harness: Harness, first: Callable[[Tx], Awaitable[None]], second: Awaitable[object]
) -> object:
    """Run `first` in a transaction, start `second` once it is done, let `second` come to wait
    on the rows `first` holds, then commit `first`; what `second` gave (or raised)."""
    async with harness.rt.store.transaction() as tx:
        await first(tx)
        waiting = asyncio.ensure_future(second)
        await _until_one_waits_on_a_lock(harness)
    return await asyncio.gather(waiting, return_exceptions=True)


def test_a_conversation_is_never_given_a_label_deleted_meanwhile(
    harness: Harness, site: Site
) -> None:
    owner = Actor("operator", operator_id=site.operator_ids["owner"])
    vip = Label(new_id(), site.website_id, "VIP", "#ffd700", T0)
    session = make_session(site.website_id, state=SessionState.PERMANENT)
    conversation = make_conversation(session)

    async def seed(tx: Tx) -> None:
        assert await tx.labels.insert(vip)
        await tx.sessions.insert(session, "t")
        await tx.conversations.insert(conversation)
        await tx.messages.insert(make_message(conversation, 0))

    in_tx(harness, seed)

    # The deletion holds the label; giving it waits, then finds it gone.
    async def delete_first(tx: Tx) -> None:
        assert await tx.labels.get_to_delete(site.website_id, vip.id) == vip
        await tx.labels.delete(site.website_id, vip.id)

    (given,) = harness.run(
        _behind(harness, delete_first, do_set_labels(harness.rt, owner, conversation.id, [vip.id]))
    )  # type: ignore[misc]
    assert isinstance(given, NotFound) and given.code == "label_not_found"
    assert harness.scalar("SELECT labels FROM conversations") in ([], "[]")

    # Giving holds the label; the deletion waits, then takes it off that conversation too.
    again = Label(new_id(), site.website_id, "Billing", "#aa0011", T0)
    in_tx(harness, lambda tx: tx.labels.insert(again))

    async def give_first(tx: Tx) -> None:
        assert await tx.labels.keep(site.website_id, (again.id, new_id())) == {again.id}
        await tx.conversations.set_labels(conversation.id, (again.id,), T0)

    (taken_off,) = harness.run(
        _behind(harness, give_first, do_delete_label(harness.rt, owner, site.website_id, again.id))
    )  # type: ignore[misc]
    assert taken_off == 1  # the conversation given it meanwhile
    assert harness.scalar("SELECT labels FROM conversations") in ([], "[]")
    assert harness.scalar("SELECT count(*) FROM labels") == 0


def test_auto_resolve_leaves_alone_a_conversation_a_message_is_being_written_to(
    harness: Harness,
) -> None:
    shop = Website(new_id(), "Shop", (), {}, T0)
    sessions = [make_session(shop.id, state=SessionState.PERMANENT) for _ in range(3)]
    quiet, busy, answered = (make_conversation(s, last_message_at=T0) for s in sessions)

    async def seed(tx: Tx) -> None:
        await tx.websites.insert(shop)
        for n, (session, conversation) in enumerate(
            zip(sessions, (quiet, busy, answered), strict=True)
        ):
            await tx.sessions.insert(session, f"t{n}")
            await tx.conversations.insert(conversation)

    in_tx(harness, seed)
    later = T0 + timedelta(hours=1)

    async def race() -> list[str]:
        store = harness.rt.store
        async with store.transaction() as writing:  # a message arriving in `busy`, not committed
            await writing.conversations.touch(busy.id, later, reopen=False, unread_for=None)
            async with store.transaction() as auto:
                idle = await auto.conversations.idle(shop.id, T0 + timedelta(minutes=30), 10)
        # Once a message in `answered` committed, it is no longer idle.
        async with store.transaction() as tx:
            await tx.conversations.touch(answered.id, later, reopen=False, unread_for=None)
        async with store.transaction() as auto:
            idle_now = await auto.conversations.idle(shop.id, T0 + timedelta(minutes=30), 10)
        return [c.id for c in idle] + ["|"] + [c.id for c in idle_now]

    assert harness.run(race()) == [quiet.id, answered.id, "|", quiet.id]


def test_a_visitor_message_reopens_a_conversation_resolved_while_it_was_being_stored(
    harness: Harness, site: Site
) -> None:
    async def open_and_write() -> tuple[str, str]:
        opened = await do_open_session(
            harness.rt,
            website_id=site.website_id,
            token=None,
            page=PageView(url=f"{ORIGIN}/"),
            ip="198.51.100.7",
            origin=ORIGIN,
        )
        sent = await do_send_session_message(
            harness.rt, opened.session.id, client_id=new_id(), body="hello"
        )
        return opened.session.id, sent.message.conversation_id

    session_id, conversation_id = harness.run(open_and_write())

    # An agent resolves it; the visitor's next message, read while it was open, waits for that
    # commit to touch the row, then finds it resolved and opens it again.
    async def resolve_first(tx: Tx) -> None:
        await tx.conversations.set_state(conversation_id, ConversationState.RESOLVED, T0)

    (sent,) = harness.run(
        _behind(
            harness,
            resolve_first,
            do_send_session_message(harness.rt, session_id, client_id=new_id(), body="wait!"),
        )
    )  # type: ignore[misc]
    assert not isinstance(sent, BaseException), sent
    assert harness.scalar("SELECT state FROM conversations WHERE id = :c", c=conversation_id) == (
        "open"
    )


def test_a_conversation_read_with_its_session_stays_as_read_until_the_commit(
    harness: Harness, site: Site
) -> None:
    """The message path reads a session with its conversation and writes the conversation only
    at the commit (its touch held back, store/pending.py): an agent's resolve meanwhile waits
    for that commit instead of changing the row under the state the message was stored on."""
    opened = harness.run(
        do_open_session(
            harness.rt,
            website_id=site.website_id,
            token=None,
            page=PageView(url=f"{ORIGIN}/"),
            ip="198.51.100.8",
            origin=ORIGIN,
        )
    )
    sent = harness.run(
        do_send_session_message(harness.rt, opened.session.id, client_id=new_id(), body="hi")
    )
    conversation_id = sent.message.conversation_id
    later = harness.rt.clock.now() + timedelta(minutes=1)

    async def read(tx: Tx) -> None:  # as a message's part does; its touch comes at the commit
        _, conversation = await tx.sessions.get_with_conversation(opened.session.id)
        assert conversation is not None and conversation.state is ConversationState.OPEN

    async def resolve() -> None:
        async with harness.rt.store.transaction() as tx:
            await tx.conversations.set_state(conversation_id, ConversationState.RESOLVED, later)

    (resolved,) = harness.run(_behind(harness, read, resolve()))  # type: ignore[misc]
    assert resolved is None
    assert harness.scalar("SELECT state FROM conversations WHERE id = :c", c=conversation_id) == (
        "resolved"
    )
