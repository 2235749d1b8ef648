"""`causerie purge`, `conversation delete`, `privacy erase` and `jobs` on SQLite and PostgreSQL
(docs/cli.md)."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from causerie.actions.jobs import Work, do_enqueue, do_run_due_jobs
from causerie.actions.messages import do_send_visitor_message
from causerie.actions.profiles import do_update_visitor_profile
from causerie.actions.sessions import do_open_session
from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.jobs import MAX_ATTEMPTS, Job, JobKind
from causerie.domain.models import Actor, PageView
from causerie.runtime import Runtime
from tests import cli_support
from tests.cli_support import (
    Cli,
    queued_and_failed_jobs,
)
from tests.conftest import ORIGIN, Harness
from tests.support import (
    CLI_TIMEOUT,
)

cli = cli_support.cli  # the fixture


RULES = (
    "temporary_sessions",
    "chat_ips",
    "resolved_conversations",
    "expired_logins",
    "expired_links",
    "audit_entries",
    "files",
    "webhook_deliveries",
    "expired_blocks",
)


def counts_in_table(output: str) -> dict[str, int]:
    counts = {}
    for rule in RULES:
        match = re.search(rf"\b{rule}\W+(\d+)\W", output)
        assert match, output
        counts[rule] = int(match.group(1))
    return counts


# -- purge and deletion ------------------------------------------------------------------------


def test_purge_dry_run_prints_a_count_per_rule(cli: Cli) -> None:
    table = cli.ok("purge", "--dry-run")
    assert "dry run" in table
    assert counts_in_table(table) == dict.fromkeys(RULES, 0)
    data = json.loads(cli.ok("purge", "--dry-run", "--json"))
    assert data["dry_run"] is True
    assert data["removed"] == dict.fromkeys(RULES, 0)


def test_p15_cli_purge_removes_expired_temporary_sessions(
    cli: Cli, harness: Harness, clock: ManualClock
) -> None:
    """The purge command runs on the system clock: a session last seen two hours ago, by the
    real time, is past the 30-minute lifetime of a temporary session; one seen a minute ago is
    not."""
    rt = harness.rt
    website = harness.run(do_create_website(rt, Actor.cli(), "Shop", [ORIGIN]))

    def open_at(moment: datetime) -> str:
        clock.advance(moment - clock.now())
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
        return opened.session.id

    now = datetime.now(UTC)
    expired = open_at(now - timedelta(hours=2))
    live = open_at(now - timedelta(minutes=1))

    dry = json.loads(cli.ok("purge", "--dry-run", "--json"))
    assert dry["removed"]["temporary_sessions"] == 1
    assert len(harness.rows("SELECT id FROM sessions")) == 2

    output = cli.ok("purge")
    assert counts_in_table(output)["temporary_sessions"] == 1
    assert harness.rows("SELECT id FROM sessions") == [(live,)]
    assert harness.scalar("SELECT count(*) FROM sessions WHERE id = :id", id=expired) == 0


def test_conversation_delete_of_an_unknown_id_fails_with_a_message(cli: Cli) -> None:
    result = cli("conversation", "delete", "nosuchconversation00000")
    assert result.returncode != 0
    assert "nosuchconversation00000" in result.stderr
    assert "Traceback" not in result.stderr


def _conversation_with_one_message(harness: Harness, email: str) -> str:
    rt = harness.rt
    website = harness.run(do_create_website(rt, Actor.cli(), "Shop", [ORIGIN]))
    page = PageView(url="https://shop.example/")
    opened = harness.run(
        do_open_session(
            rt, website_id=website.id, token=None, page=page, ip="203.0.113.7", origin=ORIGIN
        )
    )
    harness.run(do_update_visitor_profile(rt, token=opened.token, origin=ORIGIN, email=email))
    sent = harness.run(
        do_send_visitor_message(rt, token=opened.token, origin=ORIGIN, client_id="c1", body="hi")
    )
    return sent.message.conversation_id


def test_counts_of_one_are_in_the_singular(cli: Cli, harness: Harness) -> None:
    conversation = _conversation_with_one_message(harness, "ada@mail.example")
    assert cli.ok("privacy", "erase", "--email", "ada@mail.example").strip() == (
        "erased 1 session and 1 message"
    )
    other = _conversation_with_one_message(harness, "bob@mail.example")
    deleted = cli.ok("conversation", "delete", other).strip()
    assert deleted == f"deleted conversation {other} and its 1 message"
    assert conversation != other


def test_erasing_a_person_nothing_is_held_about_does_not_prompt(cli: Cli) -> None:
    """On a terminal: no "Erase 0 sessions ...?" question, one line, exit 0."""
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "causerie", "privacy", "erase", "--email", "no@one.example"],
            env=cli.env,
            cwd=cli.cwd,
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        out, err = process.communicate(timeout=CLI_TIMEOUT)
    finally:
        os.close(leader)
        os.close(follower)
    assert process.returncode == 0, err
    assert out.strip() == "nothing held about no@one.example: nothing to erase"
    assert "Erase" not in out + err
    # Not on a terminal: the same answer.
    piped = cli.process("privacy", "erase", "--email", "no@one.example")
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.strip() == "nothing held about no@one.example: nothing to erase"


# -- jobs --------------------------------------------------------------------------------------


def test_jobs_list_shows_queued_and_failed_jobs(cli: Cli, harness: Harness) -> None:
    queued, failed = queued_and_failed_jobs(harness)

    listed = json.loads(cli.ok("jobs", "list", "--json"))
    assert {job["id"]: job["state"] for job in listed} == {queued: "queued", failed: "failed"}
    (failing,) = json.loads(cli.ok("jobs", "list", "--state", "failed", "--json"))
    assert failing == {
        "id": failed,
        "kind": "mail.visitor",
        "state": "failed",
        "attempts": MAX_ATTEMPTS,
        "run_at": failing["run_at"],
        "last_error": "RuntimeError: the mail server said no",
    }
    assert datetime.fromisoformat(failing["run_at"]).tzinfo is not None
    assert json.loads(cli.ok("jobs", "list", "--state", "running", "--json")) == []

    table = cli.ok("jobs", "list")
    assert queued in table and failed in table and "the mail server said no" in table
    bad = cli("jobs", "list", "--state", "done")
    assert bad.returncode == 2 and "done" in bad.stderr


def test_jobs_list_fits_an_80_column_terminal_and_keeps_every_error_whole(
    tmp_path: Path, database_url: str, harness: Harness
) -> None:
    """In 80 columns (a terminal's default) the table folded every column into a ribbon of
    eight-letter pieces, a job over twenty lines. Each job is now one line of its table, and
    its last error follows the table whole, wrapped to the width."""
    rt = harness.rt
    error = (
        "ConnectError: [Errno 111] Connect call failed ('203.0.113.5', 25) while sending to "
        "smtp.mail.example [/b] for the third time this hour, the server being down"
    )

    async def broken(rt: Runtime, job: Job) -> None:
        raise RuntimeError(error)

    async def make() -> str:
        async with rt.store.transaction() as tx:
            failing = await do_enqueue(rt, tx, JobKind.MAIL_NEW_CONVERSATION)
        await do_run_due_jobs(rt, {JobKind.MAIL_NEW_CONVERSATION.value: Work(broken)})
        return failing

    failing = harness.run(make())
    narrow = Cli(tmp_path, database_url, COLUMNS="80")
    shown = narrow.ok("jobs", "list")
    lines = shown.splitlines()
    assert all(len(line) <= 80 for line in lines), shown
    (row,) = [line for line in lines if line.startswith(failing)]
    assert row.split() == [failing, "mail.new_conversation", "queued", "1", *row.split()[4:]]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", " ".join(row.split()[4:])), row
    after = lines[lines.index(row) + 1 :]
    assert " ".join(" ".join(after).split()).endswith(f"RuntimeError: {error}"), shown


def test_jobs_retry_queues_a_failed_job_now(cli: Cli, harness: Harness) -> None:
    _, failed = queued_and_failed_jobs(harness)
    output = cli.ok("jobs", "retry", failed)
    assert failed in output
    assert harness.rows("SELECT state, attempts FROM jobs WHERE id = :id", id=failed) == [
        ("queued", 0)
    ]


def test_jobs_retry_of_an_unknown_id_exits_1_with_one_line(cli: Cli, harness: Harness) -> None:
    queued_and_failed_jobs(harness)
    before = harness.rows("SELECT id, state, attempts, run_at FROM jobs ORDER BY id")
    result = cli("jobs", "retry", "nosuchjob")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["causerie: no job 'nosuchjob'"]
    assert harness.rows("SELECT id, state, attempts, run_at FROM jobs ORDER BY id") == before
