"""Contract tests of `tx.replies`, `tx.labels` and a conversation's labels
(`tx.conversations.set_labels`, `with_label`, `list_page(label=)`), on SQLite and PostgreSQL, in
the manner of tests/test_repositories_*.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from causerie.domain.labels import Label
from causerie.domain.models import SessionState, Website
from causerie.domain.ports import Tx
from causerie.domain.replies import CannedReply
from causerie.tokens import new_id
from tests.conftest import Harness
from tests.repositories_support import T0, in_tx, make_conversation, make_message, make_session


def _canned_replies_one_per_shortcut_per_website(harness: Harness) -> None:
    shop, other = Website(new_id(), "Shop", (), {}, T0), Website(new_id(), "Other", (), {}, T0)

    def reply(website: Website, shortcut: str) -> CannedReply:
        return CannedReply(new_id(), website.id, shortcut, shortcut.title(), "Hi {website}", T0, T0)

    hello, bye, theirs = reply(shop, "hello"), reply(shop, "bye"), reply(other, "hello")

    async def write(tx: Tx) -> None:
        await tx.websites.insert(shop)
        await tx.websites.insert(other)
        for made in (hello, bye, theirs):
            assert await tx.replies.insert(made)
        assert not await tx.replies.insert(reply(shop, "hello"))

    in_tx(harness, write)

    async def read(tx: Tx) -> None:
        assert await tx.replies.list_for_website(shop.id) == [bye, hello]
        assert await tx.replies.get(shop.id, hello.id) == hello
        assert await tx.replies.get(other.id, hello.id) is None
        changed = replace(hello, shortcut="hi", body="Hello", updated_at=T0 + timedelta(hours=1))
        assert await tx.replies.update(changed)
        assert await tx.replies.get(shop.id, hello.id) == changed
        assert not await tx.replies.update(replace(changed, shortcut="bye"))
        assert not await tx.replies.update(replace(theirs, website_id=shop.id, shortcut="x"))
        assert await tx.replies.get(shop.id, hello.id) == changed
        assert not await tx.replies.delete(other.id, hello.id)
        assert await tx.replies.delete(shop.id, hello.id)
        assert await tx.replies.list_for_website(shop.id) == [bye]

    in_tx(harness, read)
    in_tx(harness, lambda tx: tx.websites.delete(shop.id))
    assert in_tx(harness, lambda tx: tx.replies.list_for_website(shop.id)) == []
    assert in_tx(harness, lambda tx: tx.replies.list_for_website(other.id)) == [theirs]


def test_canned_replies_labels_and_the_conversations_that_hold_them(harness: Harness) -> None:
    _canned_replies_one_per_shortcut_per_website(harness)
    shop = Website(new_id(), "Shop", (), {}, T0)
    vip = Label(new_id(), shop.id, "VIP", "#ffd700", T0)
    billing = Label(new_id(), shop.id, "Billing", "#aa0011", T0)
    sessions = [make_session(shop.id, state=SessionState.PERMANENT) for _ in range(3)]
    started = [
        make_conversation(s, last_message_at=T0 + timedelta(minutes=n))
        for n, s in enumerate(sessions)
    ]

    async def write(tx: Tx) -> None:
        await tx.websites.insert(shop)
        assert await tx.labels.insert(vip)
        assert await tx.labels.insert(billing)
        assert not await tx.labels.insert(replace(vip, id=new_id()))
        for n, (session, conversation) in enumerate(zip(sessions, started, strict=True)):
            await tx.sessions.insert(session, f"t{n}")
            await tx.conversations.insert(conversation)
            await tx.messages.insert(make_message(conversation, n))
        await tx.conversations.set_labels(started[0].id, (vip.id, billing.id), T0)
        await tx.conversations.set_labels(started[2].id, (vip.id,), T0)

    in_tx(harness, write)

    async def page(tx: Tx, **filters: Any) -> list[str]:
        found = await tx.conversations.list_page(
            shop.id,
            **{
                "state": None,
                "assignee": None,
                "unassigned": False,
                "query": None,
                "limit": 10,
                "after": None,
                **filters,
            },
        )
        return [summary.conversation.id for summary in found]

    async def read(tx: Tx) -> None:
        assert await tx.labels.list_for_website(shop.id) == [billing, vip]
        assert await tx.labels.count(shop.id) == 2
        assert await tx.labels.get(shop.id, vip.id) == vip
        assert await tx.labels.get(new_id(), vip.id) is None
        gold = replace(vip, name="Gold")
        assert await tx.labels.update(gold)
        assert not await tx.labels.update(replace(gold, name="Billing"))
        assert await tx.labels.get(shop.id, vip.id) == gold
        held = await tx.conversations.get(started[0].id)
        assert held is not None and held.labels == (vip.id, billing.id)
        assert await page(tx, label=vip.id) == [started[2].id, started[0].id]
        assert await page(tx, label=billing.id) == [started[0].id]
        assert await page(tx, label=vip.id, query="body 0") == [started[0].id]
        assert await page(tx, label=new_id()) == []
        holding = await tx.conversations.with_label(shop.id, vip.id)
        assert sorted(c.id for c in holding) == sorted([started[0].id, started[2].id])
        assert await tx.conversations.with_label(shop.id, "%") == []
        assert await tx.labels.delete(shop.id, vip.id)
        assert not await tx.labels.delete(shop.id, vip.id)

    in_tx(harness, read)
