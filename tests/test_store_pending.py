"""Writes a transaction holds back until just before its commit (store/pending.py), on both
databases: a batch of messages runs a constant number of statements besides its messages' own,
and nothing held back is missed by the transaction's other statements or kept from a rolled back
part.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text

from causerie.actions.batches import Batcher
from causerie.actions.events import do_emit, get_replay
from causerie.actions.messages import Sent, do_send_session_message
from causerie.domain.errors import Invalid
from causerie.domain.events import EventType, NewEvent, Stream
from causerie.domain.models import Author
from causerie.domain.ports import TransactionLost, Tx
from causerie.domain.webhooks import Webhook
from causerie.store.database import SqliteStore
from causerie.store.db import Query
from causerie.store.schema.shield import network_stats
from tests.conftest import Harness, Site
from tests.support import open_sessions

SENDERS = 20


def _send_all(harness: Harness, site: Site, sessions: list[str], tag: str) -> list[Any]:
    async def sends() -> list[Any]:
        return list(
            await asyncio.gather(
                *(
                    do_send_session_message(
                        harness.rt,
                        s,
                        client_id=f"{tag}{n}",
                        body=f"{tag} {n}",
                        website_id=site.website_id,
                    )
                    for n, s in enumerate(sessions)
                ),
                return_exceptions=True,
            )
        )

    return harness.run(sends())


def _one_batch(harness: Harness, site: Site, sessions: list[str], tag: str) -> Counter[str]:
    """Each session sends a message, all in one batch: the statements run meanwhile."""
    batcher = harness.rt.batches
    assert isinstance(batcher, Batcher)
    before = batcher.batches
    with _statements(harness) as seen:
        sent = _send_all(harness, site, sessions, tag)
    assert all(isinstance(s, Sent) and s.created for s in sent), sent
    assert batcher.batches - before == 1
    return seen


@contextmanager
def _statements(harness: Harness) -> Iterator[Counter[str]]:
    """Every statement the store runs meanwhile, by its first words (several sent as one query
    are counted each). On SQLite, as the database itself traces them (a multi-row insert of N
    rows is N executions there); on PostgreSQL, each query sent (a multi-row insert is one)."""
    seen: Counter[str] = Counter()

    def count(sql: str) -> None:
        for one in sql.split(";"):
            if one.strip():
                seen.update([" ".join(re.sub(r"\(.*", "", " ".join(one.split())).split()[:3])])

    store = harness.rt.store
    if isinstance(store, SqliteStore):
        raw = store._raw  # the writer's connection: SQLite's trace is per connection
        raw.set_trace_callback(count)
        try:
            yield seen
        finally:
            raw.set_trace_callback(None)
        return
    engine = store.engine.sync_engine  # type: ignore[attr-defined]
    logged: list[Any] = []

    def executed(*args: Any) -> None:
        # What SQLAlchemy sends through a statement its adapter prepares (its executemany is
        # in asyncpg's log below).
        if not args[5]:
            count(args[2])

    def log(query: Any) -> None:
        # What asyncpg runs itself: what the store sends it (store/postgres.py, `PostgresDb`:
        # statements of transaction control, and written ones) and SQLAlchemy's executemany.
        if not query.query.startswith(("BEGIN", "COMMIT")):
            count(query.query)

    def checkout(dbapi_connection: Any, *_: Any) -> None:
        driver = dbapi_connection.driver_connection
        driver.add_query_logger(log)
        logged.append(driver)

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "before_cursor_execute", executed)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", executed)
        event.remove(engine, "checkout", checkout)
        for driver in logged:
            driver.remove_query_logger(log)


@pytest.mark.parametrize("webhook", [False, True], ids=["no webhook", "message.created"])
def test_a_batch_of_sends_runs_a_constant_number_of_statements_besides_its_messages(
    harness: Harness, site: Site, webhook: bool
) -> None:
    sessions = open_sessions(harness, site.website_id, SENDERS)
    _send_all(harness, site, sessions, "first")  # conversations started, sessions permanent
    if webhook:
        harness.run(_add_webhook(harness, site, "message.created"))
    seen = _one_batch(harness, site, sessions, "next")
    sqlite = isinstance(harness.rt.store, SqliteStore)
    # A multi-row statement or one run over many rows (executemany): one round trip on
    # PostgreSQL, traced by SQLite once per row.
    rows = SENDERS if sqlite else 1
    # Each message: with a webhook, its delivery's job; nothing else of its own (no savepoint:
    # parts that succeed never needed one, actions/batches.py; its row is held back). Once for
    # the batch: its sessions read with their conversations, its message rows inserted, the
    # conversations touched, its streams moved forward, its event rows inserted, its report
    # hour and day and its networks' day counted, its website's webhooks read, its deliveries
    # inserted (its messages stored in bulk, actions/message_batch.py). (Before: a savepoint, a
    # row, a session read and a touch per message, and with a webhook the events flushed at
    # every message.)
    expected = {
        "SAVEPOINT causerie_part": 0,
        "RELEASE SAVEPOINT causerie_part": 0,
        "INSERT INTO messages": rows,
        "UPDATE conversations SET": rows,
        "INSERT INTO events": 2 * SENDERS if sqlite else 1,
        "INSERT INTO streams": 1,
        "INSERT INTO report_hours": 1,
        "INSERT INTO report_days": 1,
        "INSERT INTO network_stats": 1,
        "INSERT INTO webhook_deliveries": rows if webhook else 0,
        "INSERT INTO jobs": SENDERS if webhook else 0,
    }
    for statement, times in expected.items():
        assert seen[statement] == times, (statement, seen)
    reads = {s: n for s, n in seen.items() if s.startswith("SELECT")}
    assert sum(n for s, n in reads.items() if "sessions.id" in s) == 1, seen
    assert sum(n for s, n in reads.items() if s.startswith("SELECT webhooks")) == 1, seen
    # Besides them, what the server does meanwhile in the background (the jobs' poll).
    besides = sum(seen.values()) - sum(expected.values()) - sum(reads.values())
    assert besides <= 4, seen
    if not sqlite:  # round trips: before, 4 each (then with a savepoint and a row, 2 and 4)
        assert sum(seen.values()) <= (2 if webhook else 0) * SENDERS + 14, seen
    # Everything held back was written: every message counted, each once.
    counted = harness.scalar(
        "SELECT sum(messages_visitor) FROM report_days WHERE dimension = 'website'"
    )
    assert counted == 2 * SENDERS
    assert harness.scalar("SELECT sum(messages) FROM network_stats") == 2 * SENDERS
    assert harness.scalar("SELECT sum(unread_by_operator) FROM conversations") == 2 * SENDERS
    assert harness.scalar("SELECT count(*) FROM webhook_deliveries") == (SENDERS if webhook else 0)
    frames = harness.run(_frames(harness, Stream.of_website(site.website_id)))
    assert [seq for seq, _ in frames] == list(range(1, len(frames) + 1))
    assert sum('"body":"next ' in text for _, text in frames) == SENDERS


async def _add_webhook(harness: Harness, site: Site, *events: str) -> None:
    async with harness.rt.store.transaction() as tx:
        await tx.webhooks.insert(
            Webhook(
                id="wh_batch",
                website_id=site.website_id,
                url="https://hooks.example/batch",
                events=events,
                secret="s" * 32,
                created_at=harness.rt.clock.now(),
            )
        )


async def _frames(harness: Harness, stream: Stream) -> list[tuple[int, str]]:
    replay = await get_replay(harness.rt, stream, 0)
    return replay.frames


def test_a_part_that_fails_after_earlier_parts_writes_were_flushed_keeps_them(
    harness: Harness, site: Site
) -> None:
    """A statement of a later part flushes the earlier parts' held-back events inside its
    savepoint; when that part is rolled back, they are written again, not lost."""
    first, second = open_sessions(harness, site.website_id, 2)
    _send_all(harness, site, [first, second], "earlier")  # their conversations started
    rt = harness.rt
    website = Stream.of_website(site.website_id)

    async def emits_then_fails(tx: Tx) -> None:
        # An event appended at once: the website stream's held-back events go first.
        await do_emit(rt, tx, website, EventType.SESSION_UPDATED, "x", {}, session_id=None)
        raise Invalid("refused after its event", "refused")

    async def sends() -> list[Any]:
        return list(
            await asyncio.gather(
                do_send_session_message(
                    rt, first, client_id="a", body="one", website_id=site.website_id
                ),
                rt.batches.run(rt.store, site.website_id, emits_then_fails),
                do_send_session_message(
                    rt, second, client_id="b", body="two", website_id=site.website_id
                ),
                return_exceptions=True,
            )
        )

    batcher = rt.batches
    assert isinstance(batcher, Batcher)
    before = batcher.batches, batcher.reruns
    one, refused, two = harness.run(sends())
    # The part failed after writing: the batch ran again, each part in a savepoint.
    assert (batcher.batches - before[0], batcher.reruns - before[1]) == (2, 1)
    assert isinstance(one, Sent) and isinstance(two, Sent)
    assert isinstance(refused, Invalid)
    frames = harness.run(_frames(harness, website))
    assert [seq for seq, _ in frames] == list(range(1, len(frames) + 1))
    created = [text for _, text in frames if "message.created" in text][-2:]
    assert ['"body":"one"' in created[0], '"body":"two"' in created[1]] == [True, True]
    assert not any('"object_id":"x"' in text or '"id":"x"' in text for _, text in frames)
    for session_id, body in ((first, "one"), (second, "two")):
        mine = harness.run(_frames(harness, Stream.of_session(session_id)))
        assert [seq for seq, _ in mine] == list(range(1, len(mine) + 1))
        assert any(f'"body":"{body}"' in text for _, text in mine)


def test_held_back_events_are_seen_by_the_transactions_own_reads_in_order(
    harness: Harness, site: Site
) -> None:
    rt = harness.rt
    now = rt.clock.now()
    stream = Stream.of_website(site.website_id).key

    def new(object_id: str) -> NewEvent:
        return NewEvent(stream, EventType.SESSION_UPDATED, object_id, None, now, None, {})

    async def run() -> tuple[list[int], list[int], list[str], int]:
        async with rt.store.transaction() as tx:
            later = await tx.events.append_later([new("a"), new("b")])
            # An append at once comes after what was held back, as it was called after it.
            now_seqs = await tx.events.append([new("c")])
            listed = [e.object_id for e in await tx.events.list_after(stream, 0, 10)]
            more = await tx.events.append_later([new("d")])
            last = await tx.events.last_seq(stream)
        return later() + more(), now_seqs, listed, last

    held, immediate, listed, last = harness.run(run())
    start = held[0]
    assert held == [start, start + 1, start + 3]
    assert immediate == [start + 2]
    assert listed[-3:] == ["a", "b", "c"]
    assert last == start + 3
    frames = harness.run(_frames(harness, Stream.of_website(site.website_id)))
    assert [seq for seq, _ in frames] == list(range(1, len(frames) + 1))


def test_counts_held_back_are_merged_and_a_rolled_back_part_takes_its_own_away(
    harness: Harness, site: Site
) -> None:
    rt = harness.rt
    day = rt.clock.now().date()

    async def run() -> None:
        async with rt.store.transaction() as tx:
            for _ in range(3):
                await tx.stats.count_network("net-a", day, sessions=1, messages=2)
            try:
                async with tx.savepoint():
                    await tx.stats.count_network("net-a", day, sessions=0, messages=100)
                    await tx.stats.count_network("net-b", day, sessions=0, messages=100)
                    raise Invalid("undone", "undone")
            except Invalid:
                pass
            await tx.stats.count_network("net-b", day, sessions=0, messages=1)

    harness.run(run())
    rows = harness.rows("SELECT network, sessions, messages FROM network_stats ORDER BY network")
    assert [tuple(r) for r in rows if r[0].startswith("net-")] == [
        ("net-a", 3, 6),
        ("net-b", 0, 1),
    ]


def test_rows_kept_for_a_transaction_are_read_again_after_a_write_of_their_table(
    harness: Harness, site: Site
) -> None:
    rt = harness.rt
    hook = Webhook(
        id="wh_kept",
        website_id=site.website_id,
        url="https://hooks.example/in",
        events=("message.created",),
        secret="s" * 32,
        created_at=rt.clock.now() - timedelta(minutes=1),
    )

    async def run() -> list[list[str]]:
        seen = []
        async with rt.store.transaction() as tx:
            seen.append([w.id for w in await tx.webhooks.list_for_website(site.website_id)])
            await tx.webhooks.insert(hook)
            seen.append([w.id for w in await tx.webhooks.list_for_website(site.website_id)])
            try:
                async with tx.savepoint():
                    await tx.webhooks.delete(hook.id)
                    seen.append([w.id for w in await tx.webhooks.list_for_website(site.website_id)])
                    raise Invalid("undone", "undone")
            except Invalid:
                pass
            seen.append([w.id for w in await tx.webhooks.list_for_website(site.website_id)])
        return seen

    assert harness.run(run()) == [[], ["wh_kept"], [], ["wh_kept"]]


def test_a_savepoint_released_late_still_rolls_back_only_its_successor(
    harness: Harness, site: Site
) -> None:
    """An outermost savepoint's release waits for the next one (store/tx.py): a later part that
    fails, after a nested savepoint of its own and a statement the database refused, is undone
    whole, and the earlier part is kept."""
    rt = harness.rt

    def hook(name: str) -> Webhook:
        return Webhook(
            id=f"wh_{name}",
            website_id=site.website_id,
            url=f"https://hooks.example/{name}",
            events=("message.created",),
            secret="s" * 32,
            created_at=rt.clock.now(),
        )

    async def run() -> list[str]:
        async with rt.store.transaction() as tx:
            async with tx.savepoint():
                await tx.webhooks.insert(hook("a"))
            with pytest.raises(Exception) as refused:
                async with tx.savepoint():
                    await tx.webhooks.insert(hook("b"))
                    async with tx.savepoint():
                        await tx.webhooks.insert(hook("c"))
                    await tx.webhooks.insert(hook("a"))  # the same id again: refused
            assert not isinstance(refused.value, TransactionLost), refused.value
            async with tx.savepoint():
                await tx.webhooks.insert(hook("d"))
        async with rt.store.read() as tx:
            return [w.id for w in await tx.webhooks.list_for_website(site.website_id)]

    assert sorted(harness.run(run())) == ["wh_a", "wh_d"]


def test_a_conversation_read_with_its_session_is_touched_at_the_commit_and_read_as_touched(
    harness: Harness, site: Site
) -> None:
    """Sessions read ahead with their conversations answer the transaction's later reads; a
    touch of one of them is held back to the commit, merged with the others of its
    conversation, and what the transaction reads of it meanwhile is already touched. A touch
    that reopens, or a rolled back part's, is not taken for granted."""
    rt = harness.rt
    first, second = open_sessions(harness, site.website_id, 2)
    _send_all(harness, site, [first, second], "first")  # their conversations started
    at = rt.clock.now() + timedelta(minutes=5)

    async def run() -> tuple[Any, ...]:
        async with rt.store.transaction() as tx:
            await tx.sessions.read_ahead([first, second, "nope"])
            with _statements(harness) as seen:
                session, conversation = await tx.sessions.get_with_conversation(first)
                assert session is not None and conversation is not None
                touched = await tx.conversations.touch(
                    conversation.id,
                    at,
                    reopen=False,
                    unread_for=Author.OPERATOR,
                    returning=True,
                )
                again = await tx.conversations.touch(
                    conversation.id,
                    at + timedelta(seconds=1),
                    reopen=False,
                    unread_for=Author.VISITOR,
                )
                _, read_back = await tx.sessions.get_with_conversation(first)
                missing = await tx.sessions.get_with_conversation("nope")
            try:
                async with tx.savepoint():
                    await tx.conversations.touch(
                        conversation.id, at, reopen=False, unread_for=Author.OPERATOR
                    )
                    raise Invalid("undone", "undone")
            except Invalid:
                pass
            _, after_rollback = await tx.sessions.get_with_conversation(first)
        return conversation, touched, again, read_back, missing, after_rollback, seen

    conversation, touched, again, read_back, missing, after_rollback, seen = harness.run(run())
    assert sum(seen.values()) == 0, seen  # answered from the read ahead, written later
    assert again is None
    assert missing == (None, None)
    assert touched.last_message_at == at and touched.updated_at == at
    assert touched.unread_by_operator == conversation.unread_by_operator + 1
    assert read_back.last_message_at == at + timedelta(seconds=1)
    assert (read_back.unread_by_operator, read_back.unread_by_visitor) == (
        conversation.unread_by_operator + 1,
        conversation.unread_by_visitor + 1,
    )
    assert after_rollback == read_back  # read again: the rolled back touch is not in it
    row = harness.rows(
        "SELECT unread_by_operator, unread_by_visitor FROM conversations WHERE id = :c",
        c=conversation.id,
    )
    assert tuple(row[0]) == (read_back.unread_by_operator, read_back.unread_by_visitor)
    stored = harness.run(_conversation_of(harness, conversation.id))
    assert stored == read_back


async def _conversation_of(harness: Harness, conversation_id: str) -> Any:
    async with harness.rt.store.read() as tx:
        return await tx.conversations.get(conversation_id)


def test_a_batch_of_first_messages_writes_the_website_s_rows_once_at_its_end(
    harness: Harness, site: Site
) -> None:
    # Each part starts a conversation (its count in the day's started hours, its routing) and
    # makes its session permanent: none of it runs the held-back writes at once, nor makes the
    # parts after it read their sessions again. So the website's shared rows (its stream, its
    # hour and day, its networks' day) are written once, at the batch's end, and held from
    # there to the commit only.
    sessions = open_sessions(harness, site.website_id, SENDERS)
    seen = _one_batch(harness, site, sessions, "first")
    for shared in ("INSERT INTO streams", "INSERT INTO report_hours", "INSERT INTO report_days"):
        assert seen[shared] == 1, (shared, seen)
    assert seen["INSERT INTO network_stats"] == 1, seen
    reads = {s: n for s, n in seen.items() if s.startswith("SELECT")}
    assert sum(n for s, n in reads.items() if "sessions.id" in s) == 1, seen
    days = harness.rows(
        "SELECT conversations_started, messages_visitor FROM report_days"
        " WHERE dimension = 'website'"
    )
    assert days == [(SENDERS, SENDERS)]
    assert harness.scalar("SELECT count(*) FROM sessions WHERE state = 'permanent'") == SENDERS
    assert harness.scalar("SELECT sum(unread_by_operator) FROM conversations") == SENDERS


def test_kept_reads_come_back_as_they_were_when_an_undone_part_began(harness: Harness) -> None:
    tables = frozenset({"sessions"})

    async def run() -> list[Any]:
        seen: list[Any] = []
        async with harness.rt.store.transaction() as tx:
            db = tx.db  # type: ignore[attr-defined]
            db.keep("a", 1, tables)
            with pytest.raises(Invalid):
                async with tx.part():  # undone in memory: nothing was sent
                    db.keep("a", 2, tables)
                    db.keep("b", 3, tables)
                    raise Invalid("refused", "refused")
            seen.append((db.kept("a"), db.kept("b")))
            with pytest.raises(Invalid):
                async with tx.savepoint():
                    db.keep("b", 4, tables)
                    # A write of the kept reads' table: they are forgotten ...
                    await db.execute(text("UPDATE sessions SET nickname = NULL WHERE id = ''"))
                    seen.append((db.kept("a"), db.kept("b")))
                    raise Invalid("refused", "refused")
            # ... and back once it is rolled back, as they were when the part began.
            seen.append((db.kept("a"), db.kept("b")))
        return seen

    assert harness.run(run()) == [(1, None), (None, None), (1, None)]


def test_writes_flushed_inside_a_rolled_back_savepoint_are_seen_by_the_next_statement(
    harness: Harness,
) -> None:
    # A prepared read of `network_stats`: it runs the held-back writes first only if one of
    # them is of its table.
    counts = Query(select(network_stats.c.messages), lambda row: int(row[0]))
    rt = harness.rt
    day = rt.clock.now().date()

    async def run() -> list[int]:
        async with rt.store.transaction() as tx:
            await tx.stats.count_network("v4-held", day, sessions=0, messages=3)  # held back
            with pytest.raises(Invalid):
                async with tx.savepoint():
                    # Raw SQL: its tables are not known, so the count is written first ...
                    await tx.db.execute(text("UPDATE sessions SET nickname = NULL WHERE id = ''"))  # type: ignore[attr-defined]
                    raise Invalid("refused", "refused")
            # ... and undone with the savepoint: it waits again, and a read of its table
            # writes it first.
            return await tx.db.fetch_all(counts, {})  # type: ignore[attr-defined]

    assert harness.run(run()) == [3]
