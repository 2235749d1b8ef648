"""The repositories of accounts, on SQLite and PostgreSQL: websites, operators and members,
logins, one-time links and API tokens (domain/repositories/). Shared rows and helpers:
tests/repositories_support.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from causerie.domain.models import (
    AccountLink,
    ApiToken,
    LinkPurpose,
    Login,
    Member,
    Operator,
    Role,
    Scope,
    Website,
)
from causerie.domain.ports import Tx
from causerie.tokens import new_id
from tests.conftest import Harness
from tests.repositories_support import (
    T0,
    in_tx,
    make_session,
)


def test_websites_round_trip_update_and_delete(harness: Harness) -> None:
    website = Website(new_id(), "Shop", ("https://a.example",), {"color": "#123456"}, T0)
    session = make_session(website.id)

    async def write(tx: Tx) -> None:
        await tx.websites.insert(website)
        await tx.sessions.insert(session, "hash-1")

    in_tx(harness, write)

    async def read(tx: Tx) -> None:
        assert await tx.websites.get(website.id) == website
        assert website in await tx.websites.list_all()
        assert await tx.websites.get_with_session(website.id, "hash-1") == (website, session)
        assert await tx.websites.get_with_session(website.id, None) == (website, None)
        assert await tx.websites.get_with_session(website.id, "unknown") == (website, None)
        assert await tx.websites.get_with_session("nope", "hash-1") == (None, None)

    in_tx(harness, read)
    changed = replace(website, name="Shop 2", origins=("https://b.example",), settings={"x": 1})
    in_tx(harness, lambda tx: tx.websites.update(changed))

    async def after(tx: Tx) -> None:
        assert await tx.websites.get(website.id) == changed
        # The website read with a session is the changed one at once (SQLite keeps what it
        # decoded of a website's row only while the row stays the same).
        assert await tx.websites.get_with_session(website.id, "hash-1") == (changed, session)
        # A session of another website is not this website's, whatever its token.
        other = Website(new_id(), "Other", (), {}, T0)
        await tx.websites.insert(other)
        assert await tx.websites.get_with_session(other.id, "hash-1") == (other, None)

    in_tx(harness, after)
    settled = replace(changed, settings={"x": 2})  # one value of its JSON, nothing else
    in_tx(harness, lambda tx: tx.websites.update(settled))
    found = in_tx(harness, lambda tx: tx.websites.get_with_session(website.id, "hash-1"))
    assert found == (settled, session)
    assert in_tx(harness, lambda tx: tx.websites.delete(website.id)) == 0
    assert in_tx(harness, lambda tx: tx.websites.get(website.id)) is None
    assert in_tx(harness, lambda tx: tx.sessions.get(session.id)) is None


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

    in_tx(harness, write)

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

    in_tx(harness, read)

    async def change(tx: Tx) -> None:
        await tx.operators.set_password(bob.id, "hash-b")
        await tx.operators.set_name(bob.id, "Robert")
        await tx.operators.record_login(bob.id, T0)
        assert await tx.members.delete(website.id, bob.id)
        assert not await tx.members.delete(website.id, bob.id)
        assert [o.id for o in await tx.operators.list_without_website()] == [bob.id]  # not alice

    in_tx(harness, change)
    assert in_tx(harness, lambda tx: tx.operators.get(bob.id)) == replace(bob, name="Robert")
    assert in_tx(harness, lambda tx: tx.operators.get_password_hash(bob.id)) == "hash-b"
    assert in_tx(harness, lambda tx: tx.members.get_role(bob.id, website.id)) is None
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

    in_tx(harness, write)

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

    in_tx(harness, use)
