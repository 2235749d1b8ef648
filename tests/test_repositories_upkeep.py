"""The repositories of upkeep, on SQLite and PostgreSQL: retention's counts and purges, stats,
the audit log and DPA acceptances, files with their messages (domain/repositories/). Shared rows
and helpers: tests/repositories_support.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from causerie.domain.files import FileRecord, PlacedFile
from causerie.domain.models import (
    Attachment,
    AuditEntry,
    DpaAcceptance,
    MessageType,
    Operator,
    Role,
    SessionState,
    Website,
)
from causerie.domain.ports import Tx
from causerie.domain.retention import Rule
from causerie.tokens import new_id
from tests.conftest import Harness
from tests.repositories_support import (
    T0,
    in_tx,
    make_conversation,
    make_message,
    make_session,
)


def test_retention_counts_and_purges(harness: Harness) -> None:
    website = Website(new_id(), "Shop", (), {}, T0)
    old = make_session(website.id, last_access_at=T0 - timedelta(days=2))
    new = make_session(website.id)

    async def write(tx: Tx) -> None:
        await tx.websites.insert(website)
        await tx.sessions.insert(old, "t-old")
        await tx.sessions.insert(new, "t-new")

    in_tx(harness, write)
    cutoff = T0 - timedelta(days=1)
    rule = Rule.TEMPORARY_SESSIONS
    assert in_tx(harness, lambda tx: tx.retention.count_expired(rule, cutoff)) == 1
    assert in_tx(harness, lambda tx: tx.retention.count_expired(rule, cutoff, "other")) == 0
    listed = in_tx(harness, lambda tx: tx.retention.list_expired(rule, cutoff, 10))
    assert listed == [old.id]
    # Listed, but visited since: the rule no longer takes it.
    in_tx(
        harness,
        lambda tx: tx.sessions.record_visit(old.id, last_access_at=T0, ip=None, page=None),
    )
    assert in_tx(harness, lambda tx: tx.retention.purge_expired(rule, cutoff, listed)) == 0
    in_tx(
        harness,
        lambda tx: tx.sessions.record_visit(
            old.id, last_access_at=T0 - timedelta(days=2), ip=None, page=None
        ),
    )
    assert in_tx(harness, lambda tx: tx.retention.purge_expired(rule, cutoff, listed)) == 1
    assert in_tx(harness, lambda tx: tx.sessions.get(old.id)) is None
    assert in_tx(harness, lambda tx: tx.sessions.get(new.id)) == new

    ips = Rule.CHAT_IPS
    erasable = in_tx(harness, lambda tx: tx.retention.list_expired(ips, T0, 10))
    assert in_tx(harness, lambda tx: tx.retention.purge_expired(ips, T0, erasable)) == 1
    erased = in_tx(harness, lambda tx: tx.sessions.get(new.id))
    assert erased == replace(new, ip=None, ip_seen_at=None)

    in_tx(harness, lambda tx: tx.retention.record_run(T0, True, {"sessions": 1}))
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

    in_tx(harness, write)
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

    in_tx(harness, audit)

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

    in_tx(harness, read)


def test_files_with_their_messages_orphans_and_expiry(harness: Harness) -> None:
    website = Website(new_id(), "Shop", (), {}, T0)
    session = make_session(website.id, state=SessionState.PERMANENT)
    conversation = make_conversation(session)
    text, carrier = make_message(conversation, 1), make_message(conversation, 2)
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

    in_tx(harness, write)
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

    in_tx(harness, read)

    async def expire(tx: Tx) -> None:
        assert await tx.files.expire(T0, T0, 10, website.id, None) == (1, ["a" * 24, "b" * 24])
        assert await tx.files.expire(T0, T0, 10, None, None) == (0, [])
        message = await tx.messages.get(conversation.id, carrier.id)
        assert message is not None and message.file == replace(
            attachment, has_thumbnail=False, expired=True
        )
        assert await tx.files.known_keys(["a" * 24]) == set()

    in_tx(harness, expire)

    async def orphans(tx: Tx) -> None:
        await tx.files.insert(later)  # a row whose message is gone already
        assert await tx.sessions.delete(session.id)  # the message goes, the row stays, orphan
        assert sorted(await tx.files.take_orphans(10)) == ["c" * 24]
        assert await tx.files.take_orphans(10) == []
        assert await tx.files.get_placed(record.id) is None

    in_tx(harness, orphans)
