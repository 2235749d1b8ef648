"""`Store.long_read()` on SQLite and PostgreSQL: reads that may run long (searches, exports,
reports, the purge's selection) without holding the event loop (docs/architecture.md).

Its contract on both databases: it sees what was committed, never an open transaction's writes;
it runs while a write transaction is open; what it writes never lands; and the store's statements
answer the same through it as through `read()`. On SQLite: a slow statement through it leaves the
loop free, where the same statement through `read()` holds it; its connections close with the
store.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import text

from causerie.domain.models import Actor, PageView, Scope, Website
from causerie.domain.ports import Store, Tx
from causerie.domain.retention import Rule
from causerie.store.database import SqliteStore, open_store
from causerie.tokens import new_id
from tests.conftest import Harness, Site
from tests.support import is_sqlite
from tests.test_search import Inbox

T = TypeVar("T")


def _website(name: str) -> Website:
    return Website(
        id=new_id(),
        name=name,
        origins=("https://a.example",),
        settings={},
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


async def _in_long_read(store: Store, read: Callable[[Tx], Awaitable[T]]) -> T:
    async with store.long_read() as tx:
        return await read(tx)


async def _in_read(store: Store, read: Callable[[Tx], Awaitable[T]]) -> T:
    async with store.read() as tx:
        return await read(tx)


# -- the contract, on both databases -----------------------------------------------------------


def test_long_read_sees_committed_writes_and_not_an_open_transactions(harness: Harness) -> None:
    store = harness.rt.store
    before, during = _website("Committed"), _website("Open")

    async def run() -> None:
        async with store.transaction() as tx:
            await tx.websites.insert(before)
        async with store.transaction() as tx:
            await tx.websites.insert(during)
            # The write transaction is open (on SQLite it holds the writer's connection): a long
            # read runs meanwhile, and sees the committed website only.
            seen = await _in_long_read(store, lambda r: r.websites.get(during.id))
            assert seen is None
            assert await _in_long_read(store, lambda r: r.websites.get(before.id)) == before
        assert await _in_long_read(store, lambda r: r.websites.get(during.id)) == during

    harness.run(run())


def test_writes_through_a_long_read_never_land(harness: Harness) -> None:
    store = harness.rt.store
    website = _website("Never")

    async def run() -> None:
        # SQLite refuses (a read-only connection); PostgreSQL rolls the read's statements back.
        with contextlib.suppress(Exception):
            async with store.long_read() as tx:
                await tx.websites.insert(website)
        assert await _in_read(store, lambda r: r.websites.get(website.id)) is None

    harness.run(run())


def test_search_reports_and_export_reads_answer_the_same_through_long_read(
    harness: Harness, site: Site, clock: Any
) -> None:
    """The same statements as `read()` (on SQLite through SQLAlchemy instead of the driver's
    connection), the same answers; a search for non-ASCII text needs the read connections' own
    `lower` (SQLite's folds ASCII only)."""
    inbox = Inbox(harness, site, clock)
    first = inbox.chat("Bonjour, ma commande 4242", nickname="ÉLODIE", email="Elodie@Mail.example")
    inbox.note(first, "Remboursement accordé")
    second = inbox.chat("KELVIN: the Kelvin sign \u212a", "refund please")
    inbox.resolve(second)
    store = harness.rt.store
    since = clock.now() - timedelta(days=2)

    async def answers(tx: Tx) -> list[Any]:
        out: list[Any] = []
        for needle in ("élodie", "4242", "REMBOURSEMENT", "kelvin", "\u212a", "refund", "zz"):
            out.append(
                await tx.conversations.list_page(
                    site.website_id,
                    state=None,
                    assignee=None,
                    unassigned=False,
                    query=needle,
                    limit=10,
                    after=None,
                )
            )
        sessions = await tx.sessions.find_by_email("elodie@mail.example", [site.website_id])
        out.append(sessions)
        for conversation_id in (first, second):
            conversation = await tx.conversations.get(conversation_id)
            assert conversation is not None
            out.append(conversation)
            out.append(await tx.sessions.get(conversation.session_id))
            out.append(await tx.conversations.get_by_session(conversation.session_id))
            out.append(await tx.messages.list_page(conversation_id, limit=50, include_notes=True))
            out.append(await tx.messages.count(conversation_id))
        out.append(await tx.stats.daily_counts(site.website_id, since))
        out.append(await tx.retention.count_expired(Rule.CHAT_IPS, clock.now() + timedelta(days=1)))
        return out

    direct = harness.run(_in_read(store, answers))
    aside = harness.run(_in_long_read(store, answers))
    assert aside == direct
    found = [[s.conversation.id for s in page] for page in direct[:7]]
    assert found == [[first], [first], [first], [second], [second], [second], []]
    assert [s.nickname for s in direct[7]] == ["ÉLODIE"]


def test_purge_expired_removes_only_what_is_still_expired(harness: Harness) -> None:
    """The purge lists a batch by a long read, then removes it in a transaction: a row that
    changed in between (a temporary session visited again) stays."""
    rt = harness.rt
    clock = harness.clock

    async def run() -> None:
        from causerie.actions.sessions import do_open_session

        website = _website("Purged")
        async with rt.store.transaction() as tx:
            await tx.websites.insert(website)
        opened = [
            await do_open_session(
                rt,
                website_id=website.id,
                token=None,
                page=PageView(url="https://a.example/"),
                ip="203.0.113.9",
                origin="https://a.example",
            )
            for _ in range(3)
        ]
        clock.advance(rt.settings.temporary_session_ttl + timedelta(minutes=1))
        cutoff = clock.now() - rt.settings.temporary_session_ttl
        async with rt.store.long_read() as tx:
            listed = await tx.retention.list_expired(Rule.TEMPORARY_SESSIONS, cutoff, 10)
        assert sorted(listed) == sorted(o.session.id for o in opened)
        revisited = opened[0].session.id
        async with rt.store.transaction() as tx:
            await tx.sessions.record_visit(
                revisited, last_access_at=clock.now(), ip=None, page=None
            )
        async with rt.store.transaction() as tx:
            removed = await tx.retention.purge_expired(Rule.TEMPORARY_SESSIONS, cutoff, listed)
        assert removed == 2
        async with rt.store.read() as tx:
            assert await tx.sessions.get(revisited) is not None
            assert [await tx.sessions.get(o.session.id) for o in opened[1:]] == [None, None]

    harness.run(run())


def test_exports_are_audited_after_the_long_read(harness: Harness, site: Site, clock: Any) -> None:
    """Exports gather through a long read and write their audit entry in a transaction after."""
    from causerie.actions.privacy import do_export_subject, do_legal_export

    inbox = Inbox(harness, site, clock)
    conversation_id = inbox.chat("hello", nickname="Ana", email="ana@mail.example")
    owner = Actor("operator", site.operator_ids["owner"], frozenset(Scope))
    rt = harness.rt
    document = harness.run(do_export_subject(rt, owner, email="ana@mail.example"))
    legal = harness.run(do_legal_export(rt, owner, conversation_id))
    assert [m["body"] for m in document["sessions"][0]["conversation"]["messages"]] == ["hello"]
    assert [m["body"] for m in legal["messages"]] == ["hello"]
    actions = harness.rows(
        "SELECT action FROM audit_log WHERE action IN "
        "('privacy.export', 'conversation.legal_export') ORDER BY action"
    )
    assert actions == [("conversation.legal_export",), ("privacy.export",)]


# -- SQLite: the loop goes on; the connections close -------------------------------------------

# A statement that keeps SQLite busy in C for a while (hundreds of milliseconds), one row out.
SLOW = text(
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < :count) "
    "SELECT count(*) FROM n"
)


@dataclass
class LagProbe:
    """A task that asks to wake 1 ms later, again and again, and records how late it woke: the
    event loop's lag, as docs/performance.md's probe measures it."""

    lags: list[float] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        while not self.stop.is_set():
            start = time.perf_counter()
            await asyncio.sleep(0.001)
            self.lags.append(time.perf_counter() - start - 0.001)


async def _probed(statement: Callable[[], Awaitable[float]]) -> tuple[float, LagProbe]:
    probe = LagProbe()
    task = asyncio.create_task(probe.run())
    await asyncio.sleep(0)  # the probe's first turn: it is waiting before the statement starts
    try:
        took = await statement()
    finally:
        probe.stop.set()
        await task
    return took, probe


def test_a_slow_long_read_leaves_the_event_loop_free(harness: Harness) -> None:
    if not is_sqlite(harness.settings.database_url):
        pytest.skip("PostgreSQL's driver never holds the loop while the server works")
    store = harness.rt.store

    async def slow(reads: Callable[[], contextlib.AbstractAsyncContextManager[Tx]]) -> float:
        start = time.perf_counter()
        async with reads() as tx:
            (await tx.db.execute(SLOW, {"count": 1_500_000})).scalar_one()  # type: ignore[attr-defined]
        return time.perf_counter() - start

    # The same statement through `read()` holds the loop: the probe sees it (the probe works).
    held, on_loop = harness.run(_probed(lambda: slow(store.read)))
    assert max(on_loop.lags) > held * 0.5
    took, off_loop = harness.run(_probed(lambda: slow(store.long_read)))
    # Generous, since a shared machine delays a wake-up by tens of milliseconds at times; on the
    # loop, the statement would delay one by its whole duration.
    assert max(off_loop.lags) < took / 2, (max(off_loop.lags), took)
    assert len(off_loop.lags) > 20


def test_the_read_connections_close_with_the_store(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'closing.db'}"

    async def run() -> None:
        from causerie.store.migrate import upgrade

        await upgrade(url)
        others = set(_reader_threads())  # another test's store in this worker may still close
        store = open_store(url)
        assert isinstance(store, SqliteStore)
        async with store.long_read() as tx:
            assert await tx.websites.list_all() == []
        assert set(_reader_threads()) - others
        await store.close()
        assert not set(_reader_threads()) - others
        with pytest.raises(RuntimeError, match="closed"):
            async with store.long_read() as tx:
                await tx.websites.list_all()

    asyncio.run(run())


def _reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("causerie-sqlite-read")]
