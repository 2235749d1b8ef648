"""What is sent out waits for the disk (docs/realtime.md): on PostgreSQL a batch committed early
is visible to other connections a few ms before it is durable, and nothing that acts outward on
rows (a job's work: a webhook delivery, a push, a mail) does so before they are on disk.

An early commit is made here as PostgreSQL sees one (`SET LOCAL synchronous_commit = off` for
its COMMIT) on a connection of the test's own: another node's batch. Each check first makes
sure that commit is not on disk yet (the WAL writer flushes on its own every 200 ms: a check
it beat proves nothing and is made again), then that the work ran only once it was.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy import make_url, text

from causerie.actions.job_kinds import KINDS
from causerie.actions.jobs import Work, do_run_due_jobs
from causerie.actions.mail import run_visitor_replies
from causerie.clock import ManualClock
from causerie.domain.jobs import Job, JobKind
from causerie.runtime import Runtime
from causerie.settings import Settings
from causerie.store.postgres import PostgresStore
from causerie.tokens import new_id
from tests import mail_support
from tests.conftest import Harness, Site
from tests.mail_support import open_visitor, reply
from tests.support import is_sqlite, sqlite_path, wait_until

sink_port = mail_support.sink_port
ATTEMPTS = 12  # checks the WAL writer may beat, each made again
CONCLUSIVE = 3  # checks it did not beat, enough to catch a send that does not wait
_DURABLE_KIND = "test.durable"


@pytest.fixture
def settings(make_settings: Callable[..., Settings], sink_port: int) -> Settings:
    """Mail without replies by mail: `_send`'s transaction then writes nothing, so its commit
    puts nothing on disk and only the store's flush before the send does."""
    return make_settings(
        smtp_url=f"smtp://127.0.0.1:{sink_port}", mail_from="Shop chat <chat@shop.example>"
    )


def _raw_url(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


def _postgres_only(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite commits no batch early: a commit is visible once on disk")


async def _commit_early(raw: Any, sql: str, *args: Any) -> tuple[str, bool]:
    """`sql` committed as an early batch is: the LSN past its commit, and whether the WAL was
    already on disk that far when the commit returned (then the check proves nothing)."""
    async with raw.transaction():
        await raw.execute("SET LOCAL synchronous_commit = off")
        await raw.execute(sql, *args)
    row = await raw.fetchrow(
        "SELECT pg_current_wal_insert_lsn()::text AS lsn,"
        " pg_current_wal_flush_lsn() >= pg_current_wal_insert_lsn() AS flushed"
    )
    return row["lsn"], row["flushed"]


async def _on_disk(raw: Any, lsn: str) -> bool:
    return bool(await raw.fetchval("SELECT pg_current_wal_flush_lsn() >= $1::text::pg_lsn", lsn))


def test_a_durable_transaction_after_an_early_commit_on_its_connection_waits_for_the_disk(
    harness: Harness, site: Site, database_url: str
) -> None:
    """An early commit's `synchronous_commit = off` holds for its own COMMIT only: the next
    transaction on the same pooled connection (the pool is last in, first out), a job's claim
    among them, commits waiting for the WAL."""
    _postgres_only(database_url)

    async def scenario() -> tuple[int, int, str]:
        store = harness.rt.store
        assert isinstance(store, PostgresStore)
        await store.flusher.probe()
        async with store.transaction() as tx:
            pid = (await tx.db.execute(text("SELECT pg_backend_pid()"))).scalar_one()  # type: ignore[attr-defined]
            assert tx.commit_early(lambda error: None)
        async with store.transaction() as tx:
            again = (await tx.db.execute(text("SELECT pg_backend_pid()"))).scalar_one()  # type: ignore[attr-defined]
            setting = (await tx.db.execute(text("SHOW synchronous_commit"))).scalar_one()  # type: ignore[attr-defined]
        await store.flusher.idle()
        return pid, again, setting

    pid, again, setting = harness.run(scenario())
    assert again == pid  # the same connection: what the early commit set could have stayed
    assert setting == "on"


def test_a_job_committed_early_is_run_only_once_its_commit_is_on_disk(
    harness: Harness, site: Site, database_url: str
) -> None:
    """A job written by a batch that committed early (a webhook delivery for its
    `message.created`, a mail, a push) is claimed by a transaction that saw its row, so whose
    commit record follows the batch's, and which commits waiting for the WAL up to it: the work
    starts with the batch on disk."""
    _postgres_only(database_url)
    seen: list[bool] = []

    async def scenario() -> list[tuple[bool, bool]]:
        raw = await asyncpg.connect(_raw_url(database_url))
        checks: list[tuple[bool, bool]] = []  # (on disk before the claim, on disk at the work)
        committed = ""

        async def work(rt: Runtime, job: Job) -> None:
            seen.append(await _on_disk(raw, committed))

        try:
            for _ in range(ATTEMPTS):
                now = harness.clock.now()
                committed, flushed = await _commit_early(
                    raw,
                    "INSERT INTO jobs (id, kind, state, payload, attempts, run_at, created_at)"
                    " VALUES ($1, $2, 'queued', '{}', 0, $3, $3)",
                    new_id(),
                    _DURABLE_KIND,
                    now,
                )
                ran = await do_run_due_jobs(harness.rt, {_DURABLE_KIND: Work(work)})
                assert ran == 1
                checks.append((flushed, seen[-1]))
                if sum(not before for before, _ in checks) == CONCLUSIVE:
                    break
        finally:
            await raw.close()
        return checks

    checks = harness.run(scenario())
    assert any(not before for before, _ in checks), "the WAL writer beat every check"
    assert all(at_work for _, at_work in checks)


def test_a_mail_carries_a_reply_committed_early_only_once_it_is_on_disk(
    harness: Harness, site: Site, database_url: str, clock: ManualClock, sink_port: int
) -> None:
    """A mail's work reads the conversation after its claim: another node's reply committed
    early in between is in the mail, which is sent only once that reply is on disk
    (`Store.made_durable` before the send)."""
    _postgres_only(database_url)
    raw_url = _raw_url(database_url)
    early: dict[str, Any] = {}  # the early commit's LSN, and whether on disk when it returned
    mailed: list[tuple[str, bool]] = []  # each mail's text, and whether the reply was on disk
    checks: list[tuple[int, str, bool]] = []  # (attempt, the mail, the reply on disk at its send)

    class Checking(mail_support.Sink):
        async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
            raw = await asyncpg.connect(raw_url)
            try:
                on_disk = await _on_disk(raw, early["lsn"])
            finally:
                await raw.close()
            mailed.append(((envelope.original_content or b"").decode(errors="replace"), on_disk))
            return "250 OK"

    controller = Controller(Checking(), hostname="127.0.0.1", port=sink_port)
    controller.start()
    try:
        for attempt in range(ATTEMPTS):
            email = f"zoe{attempt}@visitor.example"
            session_id = open_visitor(harness, site, email)
            reply(harness, site, session_id, f"First answer {attempt}")
            conversation_id = harness.scalar(
                "SELECT id FROM conversations WHERE session_id = :id", id=session_id
            )

            async def replies_with_one_more(
                rt: Runtime,
                job: Job,
                attempt: int = attempt,
                conversation_id: str = conversation_id,
            ) -> None:
                # Claimed: now another node's batch commits a second reply early.
                raw = await asyncpg.connect(raw_url)
                try:
                    early["lsn"], early["flushed"] = await _commit_early(
                        raw,
                        "INSERT INTO messages (id, conversation_id, author, operator_id, type,"
                        " body, client_id, created_at) VALUES ($1, $2, 'operator', $3, 'text',"
                        " $4, $5, $6)",
                        new_id(),
                        conversation_id,
                        site.operator_ids["agent"],
                        f"Second answer {attempt}",
                        f"early{attempt}",
                        harness.clock.now(),
                    )
                finally:
                    await raw.close()
                await run_visitor_replies(rt, job)

            clock.advance(timedelta(minutes=3))
            kinds = {**KINDS, JobKind.MAIL_VISITOR_REPLIES: Work(replies_with_one_more)}
            before = len(mailed)
            harness.run(do_run_due_jobs(harness.rt, kinds))
            wait_until(lambda n=before: len(mailed) > n, 10, lambda: "no mail")
            if not early["flushed"]:
                checks.append((attempt, *mailed[-1]))
                if len(checks) == CONCLUSIVE:
                    break
    finally:
        controller.stop()

    assert checks, "the WAL writer beat every check"
    for attempt, body, on_disk in checks:
        assert f"Second answer {attempt}" in body
        assert on_disk


def _name_elsewhere(database_url: str, website_id: str) -> str:
    """The website's name as another process reads it from the database file: what is
    committed (and, on SQLite, written to the WAL with its fsync)."""
    found = subprocess.run(
        [sys.executable, "-c", _READ_NAME, str(sqlite_path(database_url)), website_id],
        capture_output=True,
        check=True,
        text=True,
    )
    return found.stdout.strip()


_READ_NAME = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
print(conn.execute("SELECT name FROM websites WHERE id = ?", (sys.argv[2],)).fetchone()[0])
conn.close()
"""


def test_on_sqlite_made_durable_waits_for_the_group_a_read_saw(
    harness: Harness, site: Site, database_url: str
) -> None:
    """SQLite's reads between writers' turns run inside the group still open: one sees a
    change before it is committed. `made_durable` returns once that group has committed (the
    loop is held between the checks, so nothing else commits it)."""
    if not is_sqlite(database_url):
        pytest.skip("PostgreSQL's reads see only what was committed (the tests above)")
    store = harness.rt.store

    async def rename(name: str) -> None:
        async with store.transaction() as tx:
            await tx.db.execute(  # type: ignore[attr-defined]
                text("UPDATE websites SET name = :name WHERE id = :id"),
                {"name": name, "id": site.website_id},
            )

    async def attempt(name: str) -> tuple[str, str] | None:
        writing = asyncio.get_running_loop().create_task(rename(name))
        try:
            for _ in range(1000):
                await asyncio.sleep(0)  # one turn of the loop: no time waited
                async with store.read() as tx:
                    website = await tx.websites.get(site.website_id)
                if website is not None and website.name == name:
                    break
            before = _name_elsewhere(database_url, site.website_id)
            await store.made_durable()
            return before, _name_elsewhere(database_url, site.website_id)
        finally:
            await writing

    checks = [harness.run(attempt(f"grouped {n}")) for n in range(ATTEMPTS)]
    caught = [(n, c) for n, c in enumerate(checks) if c is not None and c[0] != f"grouped {n}"]
    assert caught, "no read saw a group before its commit"
    for n, (_, after) in caught:
        assert after == f"grouped {n}"
