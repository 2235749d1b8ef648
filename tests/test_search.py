"""The inbox's search (`q=`, docs/api.md) on real SQLite and PostgreSQL databases: which
conversations it finds, in the list's order and pages, whichever path the store takes (on SQLite a
look at the newest conversations, then a scan; on PostgreSQL trigram indexes), and the SQLite
shortcut's agreement with `lower` on any text.

Conversations are made through the actions, as visitors and agents make them; the ManualClock
orders them.
"""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert, select

import causerie.store.repositories.conversation_list
from causerie.actions.inbox import do_edit_profile, do_set_state, get_conversations
from causerie.actions.messages import do_send_operator_message, do_send_visitor_message
from causerie.actions.privacy import do_erase_subject
from causerie.actions.sessions import do_open_session
from causerie.clock import ManualClock
from causerie.domain.models import Actor, ConversationState, PageView, Scope
from causerie.store.database import sqlite_engine
from causerie.store.migrate import upgrade
from causerie.store.postgres import PostgresStore
from causerie.store.repositories.conversation_list import _sqlite_contains
from causerie.store.schema import declare_full_schema
from causerie.tokens import new_id
from tests.conftest import ORIGIN, Harness, Site
from tests.support import empty_database, is_sqlite, query
from tests.test_migrations import schema_diff

metadata = declare_full_schema()  # the whole declared schema, search indexes included

TRIGRAM_INDEXES = {
    "ix_messages_body_trgm": ("messages", "lower(body) gin_trgm_ops"),
    "ix_sessions_nickname_trgm": ("sessions", "lower((nickname)::text) gin_trgm_ops"),
    "ix_sessions_email_trgm": ("sessions", "lower((email)::text) gin_trgm_ops"),
}


class Inbox:
    """Visitors who write, agents who answer and search, through the actions."""

    def __init__(self, harness: Harness, site: Site, clock: ManualClock) -> None:
        self.harness, self.site, self.clock = harness, site, clock
        self.agent = Actor("operator", site.operator_ids["agent"], frozenset(Scope))

    def chat(self, *bodies: str, nickname: str | None = None, email: str | None = None) -> str:
        """A new visitor who writes `bodies`, a second apart, with that profile; the
        conversation's id."""
        rt = self.harness.rt

        async def run() -> str:
            opened = await do_open_session(
                rt,
                website_id=self.site.website_id,
                token=None,
                page=PageView(url=f"{ORIGIN}/"),
                ip="203.0.113.9",
                origin=ORIGIN,
            )
            if nickname or email:
                await do_edit_profile(
                    rt, self.agent, opened.session.id, nickname=nickname, email=email
                )
            conversation_id = ""
            for body in bodies:
                self.clock.advance(timedelta(seconds=1))
                sent = await do_send_visitor_message(
                    rt, token=opened.token, origin=ORIGIN, client_id=new_id(), body=body
                )
                conversation_id = sent.message.conversation_id
            return conversation_id

        return self.harness.run(run())

    def note(self, conversation_id: str, body: str) -> None:
        self.clock.advance(timedelta(seconds=1))
        self.harness.run(
            do_send_operator_message(
                self.harness.rt,
                self.agent,
                client_id=new_id(),
                body=body,
                type_="note",
                conversation_id=conversation_id,
            )
        )

    def resolve(self, conversation_id: str) -> None:
        self.harness.run(
            do_set_state(self.harness.rt, self.agent, conversation_id, ConversationState.RESOLVED)
        )

    def found(
        self, q: str, *, state: ConversationState | None = None, limit: int = 100
    ) -> list[str]:
        """Every conversation the search finds, following the cursor page by page."""
        ids: list[str] = []
        cursor = None
        while True:
            page = self.harness.run(
                get_conversations(
                    self.harness.rt,
                    self.agent,
                    self.site.website_id,
                    state=state,
                    assignee=None,
                    query=q,
                    limit=limit,
                    cursor=cursor,
                )
            )
            ids += [summary.conversation.id for summary in page.conversations]
            if page.next_cursor is None:
                return ids
            cursor = page.next_cursor


@pytest.fixture
def inbox(harness: Harness, site: Site, clock: ManualClock) -> Inbox:
    return Inbox(harness, site, clock)


@pytest.fixture(params=[0, 2, 1000], ids=["scan", "probe-then-scan", "probe"])
def probe(request: pytest.FixtureRequest) -> Iterator[int]:
    """SQLite's probe size: 0 and 2 make the search go on to its scan of every message; the
    answers must not change (PostgreSQL ignores it)."""
    saved = causerie.store.repositories.conversation_list.SQLITE_PROBE
    causerie.store.repositories.conversation_list.SQLITE_PROBE = request.param
    yield request.param
    causerie.store.repositories.conversation_list.SQLITE_PROBE = saved


# -- what a search finds --------------------------------------------------------------------------


def test_search_finds_bodies_notes_nicknames_and_emails_in_any_case(
    inbox: Inbox, probe: int
) -> None:
    school = inbox.chat("Mon fils va à l'école demain")
    kelvin = inbox.chat("It melts at 273 \u212a")  # the Kelvin sign, lowercased to "k"
    turkish = inbox.chat("Ofisimiz İstanbul'da")  # "İ" lowercases to "i" and a combining dot
    leo = inbox.chat("hello", nickname="Léo_Martin")
    ada = inbox.chat("hi there", email="Ada.L@Mail.example")
    refund = inbox.chat("where is my parcel")
    inbox.note(refund, "Refund APPROVED")
    parcel = inbox.chat("PARCEL lost, 100% sure")
    decoy = inbox.chat("zoom call about 1000 items: leo martin")

    assert inbox.found("ÉCOLE") == [school]
    assert inbox.found("l'école") == [school]
    assert inbox.found("ecole") == []
    assert inbox.found("léo_") == [leo]
    assert inbox.found("LÉO") == [leo]
    assert inbox.found("ada.l@mail") == [ada]
    assert inbox.found("MAIL.EXAMPLE") == [ada]
    assert inbox.found("approved") == [refund]  # agents see notes, and find by them
    assert inbox.found("parcel") == [parcel, refund]
    assert inbox.found("100%") == [parcel]
    assert inbox.found("%") == [parcel]
    assert inbox.found("_") == [leo]
    assert inbox.found("o_m") == [leo]
    assert inbox.found("10_0") == []
    assert inbox.found("1000") == [decoy]
    assert inbox.found("no such words") == []
    if is_sqlite(inbox.harness.settings.database_url):
        # As `lower` (Python's str.lower) has it; PostgreSQL's lower follows its own locale.
        assert inbox.found("273 k") == [kelvin]
        assert inbox.found("istanbul") == []  # "i̇stanbul": the dot stays between
        assert inbox.found("i̇stanbul") == [turkish]
        assert inbox.found("İSTANBUL") == [turkish]
    assert inbox.found("stanbul") == [turkish]


def test_search_needles_under_three_characters(inbox: Inbox, probe: int) -> None:
    """No trigram in them for PostgreSQL's indexes: the list's index or a scan finds them."""
    yes = inbox.chat("Oui, ça marche")
    zq = inbox.chat("code ZQ-12")
    inbox.chat("nothing here")
    assert inbox.found("ça") == [yes]
    assert inbox.found("Ç") == [yes]
    assert inbox.found("zq") == [zq]
    assert inbox.found("q-") == [zq]
    assert inbox.found("ÿ") == []


def test_search_keeps_the_list_order_state_and_pages(inbox: Inbox, probe: int) -> None:
    """Seven matches among decoys, pages of 2 or 3: each once, newest activity first."""
    matches = []
    for i in range(10):
        if i % 3 == 1:
            inbox.chat(f"decoy {i}")
        else:
            matches.append(inbox.chat(f"Order {i}: CHARGEBACK filed"))
    older = matches[0]
    inbox.note(older, "about the chargeback: done")  # its latest activity now
    newest_first = [older, *reversed(matches[1:])]
    for limit in (2, 3, 100):
        assert inbox.found("chargeback", limit=limit) == newest_first
    inbox.resolve(matches[3])
    open_ones = [m for m in newest_first if m != matches[3]]
    assert inbox.found("chargeback", state=ConversationState.OPEN, limit=2) == open_ones
    assert inbox.found("chargeback", state=ConversationState.RESOLVED) == [matches[3]]


# -- SQLite: LIKE in C where it gives lower's answer ----------------------------------------------


def test_only_the_kelvin_sign_and_dotted_capital_i_lower_to_ascii() -> None:
    """What `_sqlite_contains` relies on, for the Python running Causerie."""
    to_ascii = {
        chr(code)
        for code in range(0x80, sys.maxunicode + 1)
        if any(c.isascii() for c in chr(code).lower())
    }
    assert to_ascii == {"\u212a", "\u0130"}
    assert "\u212a".lower() == "k"
    assert "\u0130".lower() == "i\u0307"


# ASCII letters and LIKE's wildcards, the two characters that lower to ASCII, a lone combining
# dot, accented letters, sigmas (the lowercase of Σ depends on the next letter), ß, ẞ, and 日.
_ALPHABET = "aAbkKiIl%_/ \u212a\u0130\u0307éÉçÇ\u03c3\u03a3\u03c2ßẞ日"


def test_sqlite_contains_answers_as_lower_on_any_text() -> None:
    """Random texts and needles over letters that LIKE and `lower` may treat apart: the SQL
    condition finds exactly the texts whose Python lowercase contains the needle."""
    rng = random.Random(20261126)
    bodies = ["".join(rng.choices(_ALPHABET, k=rng.randrange(0, 12))) for _ in range(400)]
    texts: list[str | None] = [*bodies, None]  # a nickname or email may be NULL
    needles = {"".join(rng.choices(_ALPHABET, k=rng.randrange(1, 4))).lower() for _ in range(300)}
    for body in rng.sample(bodies, 200):  # and pieces of the texts, so that many match
        start = rng.randrange(0, len(body) + 1)
        needles.add(body.lower()[start : start + rng.randrange(1, 5)])
    needles.discard("")
    table = Table("t", MetaData(), Column("n", Integer, primary_key=True), Column("body", Text))
    engine = sqlite_engine("sqlite://")  # with Causerie's `lower`
    try:
        with engine.begin() as conn:
            table.create(conn)
            conn.execute(insert(table), [{"n": n, "body": t} for n, t in enumerate(texts)])
            checked = 0
            for needle in sorted(needles):
                got = conn.scalars(
                    select(table.c.n).where(_sqlite_contains(table.c.body, needle))
                ).all()
                want = [n for n, t in enumerate(texts) if t is not None and needle in t.lower()]
                assert sorted(got) == want, needle
                checked += bool(want)
            assert checked > 100  # most needles match something
    finally:
        engine.dispose()


# -- PostgreSQL: the trigram indexes --------------------------------------------------------------


def test_migration_creates_the_trigram_indexes_on_postgresql_only(database_url: str) -> None:
    rows = query(
        database_url,
        "SELECT indexname, tablename, indexdef FROM pg_indexes WHERE indexname LIKE '%_trgm'"
        if not is_sqlite(database_url)
        else "SELECT name, tbl_name, sql FROM sqlite_master WHERE name LIKE '%_trgm'",
    )
    if is_sqlite(database_url):
        assert rows == []
        return
    found = {name: (table, definition) for name, table, definition in rows}
    assert set(found) == set(TRIGRAM_INDEXES)
    for name, (table, expression) in TRIGRAM_INDEXES.items():
        assert found[name][0] == table
        assert f"USING gin ({expression})" in found[name][1]


def test_postgresql_serves_the_search_condition_from_the_trigram_index(
    postgres_database: str | None,
) -> None:
    """The condition as the search writes it (SQLAlchemy's `contains(..., autoescape=True)`),
    the needle a bound parameter: the index serves it (sequential scans off: the table is
    tiny)."""
    if postgres_database is None:
        pytest.skip("PostgreSQL unreachable")

    async def plan(needle: str) -> str:
        conn = await asyncpg.connect(postgres_database, timeout=5)
        try:
            await conn.execute("SET enable_seqscan = off")
            rows = await conn.fetch(
                "EXPLAIN SELECT id FROM messages "
                "WHERE lower(body) LIKE '%' || $1::text || '%' ESCAPE '/'",
                needle,
            )
            return "\n".join(row[0] for row in rows)
        finally:
            await conn.close()

    assert "Bitmap Index Scan on ix_messages_body_trgm" in asyncio.run(plan("chargeback"))
    assert "Bitmap Index Scan on ix_messages_body_trgm" in asyncio.run(plan("100/%/_x"))


def test_migrations_agree_with_the_declared_trigram_indexes(
    database_url: str, tmp_path: Path
) -> None:
    """On PostgreSQL the declared schema, trigram indexes included, is what the migrations make;
    on SQLite it is, without those PostgreSQL-only indexes."""
    with empty_database(database_url, tmp_path) as url:
        asyncio.run(upgrade(url))
        if not is_sqlite(url):
            assert schema_diff(url) == []
            return
        target = MetaData(naming_convention=metadata.naming_convention)
        for table in metadata.sorted_tables:
            table.to_metadata(target)
        for table in target.sorted_tables:
            for index in list(table.indexes):
                if index.name in TRIGRAM_INDEXES:
                    table.indexes.discard(index)
        assert schema_diff(url, target) == []


# -- erased text leaves no key in the trigram indexes (PostgreSQL) --------------------------------

SECRET = "qxjzvw"  # a word whose trigrams no other text here has
SECRET_KEYS = [
    # gin_trgm_ops keys are int4: (c0 << 16) | (c1 << 8) | c2, stored little-endian.
    bytes([ord(t[2]), ord(t[1]), ord(t[0]), 0])
    for t in (SECRET[i : i + 3] for i in range(len(SECRET) - 2))
]


async def _index_files(url: str) -> list[Path]:
    """Every trigram index's file, once PostgreSQL has written its pages out (a checkpoint)."""
    conn = await asyncpg.connect(url, timeout=5)
    try:
        await conn.execute("CHECKPOINT")
        root = await conn.fetchval("SELECT current_setting('data_directory')")
        return [
            Path(root, await conn.fetchval("SELECT pg_relation_filepath($1::regclass)", name))
            for name in TRIGRAM_INDEXES
        ]
    finally:
        await conn.close()


def _index_bytes(harness: Harness, url: str) -> bytes:
    return b"".join(file.read_bytes() for file in harness.run(_index_files(url)))


async def _deletions(url: str, *tables: str) -> dict[str, int]:
    """The rows deleted from each table, as PostgreSQL's statistics count them so far."""
    conn = await asyncpg.connect(url, timeout=5)
    try:
        rows = await conn.fetch(
            "SELECT relname, n_tup_del FROM pg_stat_user_tables WHERE relname = ANY($1)",
            list(tables),
        )
        return {row["relname"]: row["n_tup_del"] for row in rows}
    finally:
        await conn.close()


async def _deletions_seen(url: str, before: dict[str, int], **deleted: int) -> None:
    """Until the statistics count every deletion (`deleted`: rows per table) on top of `before`
    (what they counted before them: earlier tests' deletions count too). Each backend reports
    its own, an idle one up to 10 s later: a rebuild that saw only some of them would see the
    rest as new deletions and rebuild again."""
    conn = await asyncpg.connect(url, timeout=5)
    try:
        for _ in range(300):
            rows = await conn.fetch(
                "SELECT relname, n_tup_del FROM pg_stat_user_tables WHERE relname = ANY($1)",
                list(deleted),
            )
            counts = {row["relname"]: row["n_tup_del"] for row in rows}
            if all(counts.get(t, 0) >= before.get(t, 0) + n > 0 for t, n in deleted.items()):
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"PostgreSQL's statistics never counted the deletions {deleted}")
    finally:
        await conn.close()


# SQLite has no trigram index: tests/test_privacy_requests.py reads its file's bytes after an
# erasure.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_p9_erased_text_leaves_no_key_in_the_search_indexes(
    inbox: Inbox, harness: Harness, site: Site
) -> None:
    url = harness.rt.settings.database_url
    store = harness.rt.store
    assert isinstance(store, PostgresStore)
    try:
        _index_bytes(harness, url)
    except PermissionError:
        pytest.skip("this user cannot read PostgreSQL's data folder")
    inbox.chat(f"my code word is {SECRET}", email=f"{SECRET}@mail.example")
    inbox.chat("someone else, kept")
    assert all(key in _index_bytes(harness, url) for key in SECRET_KEYS)
    owner = Actor("operator", site.operator_ids["owner"], frozenset(Scope))
    before = harness.run(_deletions(url, "messages", "sessions"))
    erased = harness.run(do_erase_subject(harness.rt, owner, email=f"{SECRET}@mail.example"))

    # Deleted and vacuumed: the keys are still in the index files.
    harness.run(_vacuum(url))
    assert all(key in _index_bytes(harness, url) for key in SECRET_KEYS)

    harness.run(
        _deletions_seen(url, before, messages=erased["messages"], sessions=erased["sessions"])
    )
    rebuilt = harness.run(store.search_indexes.rebuild_stale())
    assert sorted(rebuilt) == sorted(TRIGRAM_INDEXES)
    left = _index_bytes(harness, url)
    assert not [key for key in SECRET_KEYS if key in left]
    assert inbox.found("someone else")  # the rebuilt indexes serve the search
    # No deletion since: nothing to rebuild.
    assert harness.run(store.search_indexes.rebuild_stale()) == []


async def _vacuum(url: str) -> None:
    conn = await asyncpg.connect(url, timeout=5)
    try:
        await conn.execute("VACUUM messages, sessions")
    finally:
        await conn.close()


async def _leave_an_interrupted_rebuild(url: str) -> None:
    """What a REINDEX CONCURRENTLY stopped halfway leaves: an invalid `_ccnew` copy."""
    conn = await asyncpg.connect(url, timeout=5)
    try:
        await conn.execute(
            "CREATE INDEX ix_messages_body_trgm_ccnew ON messages "
            "USING gin (lower(body) gin_trgm_ops)"
        )
        await conn.execute(
            "UPDATE pg_index SET indisvalid = false "
            "WHERE indexrelid = 'ix_messages_body_trgm_ccnew'::regclass"
        )
    finally:
        await conn.close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_rebuild_removes_what_an_interrupted_one_left(harness: Harness) -> None:
    url = harness.rt.settings.database_url
    store = harness.rt.store
    assert isinstance(store, PostgresStore)
    harness.run(_leave_an_interrupted_rebuild(url))
    leftovers = "SELECT count(*) FROM pg_class WHERE relname LIKE 'ix\\_%\\_ccnew%'"
    assert harness.scalar(leftovers) == 1
    harness.run(store.search_indexes.rebuild_stale())
    assert harness.scalar(leftovers) == 0
    assert schema_diff(url) == []
