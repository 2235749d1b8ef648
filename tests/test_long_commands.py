"""Long commands show their progress and stop cleanly on Ctrl-C (docs/cli.md, "Long commands"):
each is run as a subprocess, sent SIGINT once it has said it started, and the store is then
checked to hold whole batches only, as the message it printed says."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from causerie.actions.jobs import do_enqueue
from causerie.actions.messages import do_send_visitor_message
from causerie.actions.privacy import ERASE_BATCH
from causerie.actions.profiles import do_update_visitor_profile
from causerie.actions.sessions import do_open_session
from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.jobs import JobKind
from causerie.domain.models import Actor, PageView
from causerie.store.schema import metadata
from tests.cli_support import Cli
from tests.conftest import ORIGIN, Harness
from tests.support import CLI_TIMEOUT, table_names

EMAIL = "ada@mail.example"
# Stopping between batches is the store's transactions' business, the same on both databases;
# the subprocesses are slow to start, so these run on SQLite only.
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Cli:
    return Cli(tmp_path, database_url)


def _interrupted(cli: Cli, needle: str, *args: str) -> tuple[int, str, str]:
    """Run `causerie ARGS`, send it SIGINT once a line of its standard error holds `needle`;
    its exit status, standard output and standard error."""
    process = subprocess.Popen(
        [sys.executable, "-m", "causerie", *args],
        env=cli.env,
        cwd=cli.cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    said = []
    try:
        for line in process.stderr:
            said.append(line)
            if needle in line:
                process.send_signal(signal.SIGINT)
                break
        out, rest = process.communicate(timeout=CLI_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, out, "".join(said) + rest


def _sessions(
    harness: Harness, count: int, *, email: str | None = None, message: bool = False
) -> str:
    rt = harness.rt
    website = harness.run(do_create_website(rt, Actor.cli(), "Shop", [ORIGIN]))
    for _ in range(count):
        opened = harness.run(
            do_open_session(
                rt,
                website_id=website.id,
                token=None,
                page=PageView(url="https://shop.example/"),
                ip="203.0.113.77",
                origin=ORIGIN,
            )
        )
        if email:
            harness.run(
                do_update_visitor_profile(rt, token=opened.token, origin=ORIGIN, email=email)
            )
        if message:
            harness.run(
                do_send_visitor_message(
                    rt, token=opened.token, origin=ORIGIN, client_id="c1", body="hello"
                )
            )
    return website.id


def _clone_sessions(harness: Harness, count: int) -> None:
    """`count` copies of the one session there is (faster than opening them)."""
    columns = [column.name for column in metadata.tables["sessions"].columns]
    copied = ", ".join({"id": ":id", "token_hash": ":token"}.get(name, name) for name in columns)
    statement = text(
        f"INSERT INTO sessions ({', '.join(columns)}) SELECT {copied} FROM sessions "
        "WHERE id = :source"
    )

    async def clone() -> None:
        async with harness.rt.store.transaction() as tx:
            db = tx.db  # type: ignore[attr-defined]
            source = (await db.execute(text("SELECT id FROM sessions"))).scalar_one()
            for number in range(count):
                ids = {"id": f"clone{number:019d}", "token": f"{number:064d}", "source": source}
                await db.execute(statement, ids)

    harness.run(clone())


@SQLITE
def test_purge_stopped_by_ctrl_c_removes_whole_batches_and_says_how_many(
    cli: Cli, harness: Harness, clock: ManualClock
) -> None:
    expired = 400
    now = datetime.now(UTC)  # the command runs on the system clock
    clock.advance(now - timedelta(hours=2) - clock.now())
    _sessions(harness, 1)
    _clone_sessions(harness, expired - 1)
    assert harness.scalar("SELECT count(*) FROM sessions") == expired

    status, out, said = _interrupted(
        cli, "removed temporary_sessions:", "purge", "--batch-size", "1"
    )
    assert status == 130, said
    assert "stopping after the batch under way" in said
    found = re.search(
        r"interrupted: removed temporary_sessions (\d+) \(each batch removed whole\)", said
    )
    assert found, said
    removed = int(found.group(1))
    assert 0 < removed < expired, said
    assert out == ""  # no table: the run did not end
    assert harness.scalar("SELECT count(*) FROM sessions") == expired - removed

    # Run again, it removes the rest.
    rest = cli.ok("purge", "--json")
    assert f'"temporary_sessions": {expired - removed}' in rest
    assert harness.scalar("SELECT count(*) FROM sessions") == 0


@SQLITE
def test_export_and_erase_stopped_by_ctrl_c_leave_whole_sessions_and_their_audit(
    cli: Cli, harness: Harness
) -> None:
    held = 3 * ERASE_BATCH
    _sessions(harness, held, email=EMAIL, message=True)
    assert harness.scalar("SELECT count(*) FROM messages") == held

    # An export stopped prints nothing and audits nothing.
    status, out, said = _interrupted(
        cli, f"exported sessions: 0 of {held}", "privacy", "export", "--email", EMAIL
    )
    assert status == 130, said
    assert "interrupted: nothing printed nor audited" in said
    assert out == ""
    assert harness.scalar("SELECT count(*) FROM audit_log WHERE action = 'privacy.export'") == 0

    # An erasure stopped erased whole batches of sessions, each with its audit entry.
    status, out, said = _interrupted(
        cli, f"erased sessions: 0 of {held}", "privacy", "erase", "--email", EMAIL
    )
    assert status == 130, said
    found = re.search(rf"interrupted: erased (\d+) sessions and (\d+) messages of {EMAIL}", said)
    assert found, said
    erased, messages = int(found.group(1)), int(found.group(2))
    assert erased % ERASE_BATCH == 0 and 0 < erased < held and messages == erased, said
    assert harness.scalar("SELECT count(*) FROM sessions") == held - erased
    assert harness.scalar("SELECT count(*) FROM messages") == held - erased
    audited = "SELECT count(*) FROM audit_log WHERE action = 'privacy.erase'"
    assert harness.scalar(audited) == erased

    # Run again, it erases the rest; off a terminal, its progress is plain lines.
    left = held - erased
    result = cli("privacy", "erase", "--email", EMAIL)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"erased sessions: 0 of {left}",
        f"erased sessions: {left} of {left}",
    ]
    assert result.stdout.strip() == f"erased {left} sessions and {left} messages"
    assert harness.scalar("SELECT count(*) FROM sessions") == 0
    assert harness.scalar(audited) == held


@SQLITE
def test_migrate_stopped_by_ctrl_c_leaves_the_schema_as_it_was(cli: Cli, database_url: str) -> None:
    status, _out, said = _interrupted(cli, "applied migrations: 0 of", "migrate")
    assert status == 130, said
    assert "interrupted: no migration applied, the schema is as it was" in said
    assert table_names(database_url) <= {"alembic_version"}


@SQLITE
def test_jobs_run_runs_the_due_jobs_here_and_counts_them(cli: Cli, harness: Harness) -> None:
    async def enqueue() -> None:
        async with harness.rt.store.transaction() as tx:
            await do_enqueue(harness.rt, tx, JobKind.SEARCH_REINDEX)
            await do_enqueue(harness.rt, tx, JobKind.SEARCH_REINDEX, delay=timedelta(days=3650))

    harness.run(enqueue())
    result = cli("jobs", "run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ran 1 job"
    assert result.stderr.splitlines() == ["ran jobs: 1"]
    # The one due ran and is gone; the one due in ten years waits.
    assert harness.scalar("SELECT count(*) FROM jobs") == 1


@SQLITE
def test_on_a_terminal_the_progress_is_a_bar(cli: Cli) -> None:
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "causerie", "migrate"],
            env={**cli.env, "TERM": "xterm-256color"},
            cwd=cli.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
        )
        os.close(follower)
        drawn = b""
        with contextlib.suppress(OSError):  # EIO once the command has ended
            while chunk := os.read(leader, 4096):
                drawn += chunk
        out, _ = process.communicate(timeout=CLI_TIMEOUT)
    finally:
        os.close(leader)
    assert process.returncode == 0, drawn
    assert out.strip() == "schema updated"
    screen = drawn.decode("utf-8", "replace")
    assert "applied migrations" in screen and "━" in screen, screen
    assert "applied migrations: " not in screen  # not the plain lines
