"""The `causerie` command on SQLite and PostgreSQL (docs/cli.md).

Most commands run in this process (tests/support.py `invoke_cli`: click's runner on the real
command group, the environment a subprocess would get); real processes are kept for what only a
process shows: the installed entry point, exit statuses and streams as a shell sees them, standard
input a terminal or not, and `serve`, which would hold its socket.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pty
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from argon2 import PasswordHasher
from sqlalchemy import make_url

from causerie.actions.jobs import Work, do_enqueue, do_run_due_jobs
from causerie.actions.messages import do_send_visitor_message
from causerie.actions.operators import do_add_operator, get_operators_without_website
from causerie.actions.profiles import do_update_visitor_profile
from causerie.actions.sessions import do_open_session
from causerie.actions.websites import do_create_website
from causerie.cli import main
from causerie.clock import ManualClock
from causerie.domain.errors import Forbidden
from causerie.domain.jobs import MAX_ATTEMPTS, Job, JobKind
from causerie.domain.models import Actor, PageView, Role
from causerie.domain.websites import NAME_MAX
from causerie.runtime import Runtime
from causerie.store.schema import metadata
from causerie.web.api_models import WebsiteIn
from tests.conftest import ORIGIN, Harness
from tests.support import (
    CLI_TIMEOUT,
    Ran,
    cli_env,
    empty_database,
    free_port,
    invoke_cli,
    is_sqlite,
    query,
    run_cli,
    sqlite_files,
    table_names,
)

ROOT = Path(__file__).resolve().parent.parent
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


class Cli:
    """`causerie` with this test's data folder and database: called, in this process;
    `process`, as a real subprocess."""

    def __init__(self, tmp_path: Path, database_url: str | None, **env: str) -> None:
        self.cwd = tmp_path
        self.data_dir = tmp_path / "data"
        self.env = cli_env(self.data_dir, database_url, **env)

    def __call__(self, *args: str) -> Ran:
        return invoke_cli(*args, env=self.env, cwd=self.cwd)

    def process(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, env=self.env, cwd=self.cwd)

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert result.returncode == 0, f"causerie {' '.join(args)}: {result.stderr}"
        return result.stdout


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Cli:
    return Cli(tmp_path, database_url)


def website_id_in(output: str) -> str:
    match = re.search(r"^website id: (\S+)$", output, re.MULTILINE)
    assert match, output
    return match.group(1)


def one_time_password_in(output: str) -> str:
    match = re.search(r"one-time password[^:]*: (\S+)$", output, re.MULTILINE)
    assert match, output
    return match.group(1)


def counts_in_table(output: str) -> dict[str, int]:
    counts = {}
    for rule in RULES:
        match = re.search(rf"\b{rule}\W+(\d+)\W", output)
        assert match, output
        counts[rule] = int(match.group(1))
    return counts


def row_text(url: str, table: str) -> str:
    """Every value of every row of `table`, as one string, to look for what must not be there."""
    if is_sqlite(url):
        columns = [c.name for c in metadata.tables[table].columns]
        rows = query(url, f"SELECT {', '.join(columns)} FROM {table}")
    else:
        rows = query(url, f"SELECT row_to_json(t)::text FROM {table} t")
    return repr(rows)


def database_files(url: str) -> bytes:
    return b"".join(sqlite_files(url).values()) if is_sqlite(url) else b""


# -- commands run in this process --------------------------------------------------------------


def test_commands_run_in_process_leave_nothing_behind(tmp_path: Path) -> None:
    """What a process would drop when it ends: the environment, the working directory, logging's
    handlers, threads (the store's, the broker's), the console and its width. A run at 60 columns
    before one at 250: were the console kept, the second table would wrap the long name."""
    before = (dict(os.environ), Path.cwd(), logging.root.handlers[:], threading.active_count())
    long_name = "n" * NAME_MAX
    narrow = Cli(tmp_path, None, COLUMNS="60", CAUSERIE_PUBLIC_URL="https://narrow.example")
    added = narrow.ok("website", "add", long_name, "--origin", ORIGIN)
    assert "https://narrow.example/widget.js" in added
    assert long_name not in narrow.ok("website", "list")  # wrapped at 60 columns

    wide = Cli(tmp_path, None, CAUSERIE_PUBLIC_URL="https://wide.example")
    assert "https://wide.example/widget.js" in wide.ok("website", "add", "Shop", "--origin", ORIGIN)
    assert long_name in wide.ok("website", "list")
    assert (dict(os.environ), Path.cwd(), logging.root.handlers, threading.active_count()) == before


# -- first run, migrations ---------------------------------------------------------------------


def test_first_command_creates_the_data_folder_and_the_schema(
    tmp_path: Path, database_url: str
) -> None:
    with empty_database(database_url, tmp_path) as empty_url:
        if is_sqlite(database_url):
            cli = Cli(tmp_path, None)  # the default: a file in the data folder
            url = f"sqlite:///{cli.data_dir / 'causerie.db'}"
        else:
            cli = Cli(tmp_path, empty_url)
            url = empty_url
        assert not cli.data_dir.exists()
        assert "origins" in cli.ok("website", "list")
        assert cli.data_dir.is_dir()
        assert (cli.data_dir / "secret_key").is_file()
        assert set(metadata.tables) | {"alembic_version"} <= table_names(url)


def test_migrate_then_migrate_again(tmp_path: Path, database_url: str) -> None:
    with empty_database(database_url, tmp_path) as url:
        cli = Cli(tmp_path, url)
        assert cli.ok("migrate").strip() == "schema updated"
        assert set(metadata.tables) <= table_names(url)
        assert cli.ok("migrate").strip() == "schema already up to date"


# -- websites ----------------------------------------------------------------------------------


def test_website_add_prints_its_id_and_the_embed_snippet(tmp_path: Path, database_url: str) -> None:
    cli = Cli(tmp_path, database_url, CAUSERIE_PUBLIC_URL="https://chat.example.org")
    output = cli.ok(
        "website", "add", "Shop", "--origin", "https://Shop.Example/any/page",
        "--origin", "https://www.shop.example",
    )  # fmt: skip
    website_id = website_id_in(output)
    assert f'<script>window.CAUSERIE_WEBSITE_ID = "{website_id}";</script>' in output
    assert '<script src="https://chat.example.org/widget.js" async></script>' in output
    rows = query(database_url, "SELECT name, origins FROM websites WHERE id = ?", website_id)
    assert len(rows) == 1
    name, origins = rows[0]
    assert name == "Shop"
    assert json.loads(origins) == ["https://shop.example", "https://www.shop.example"]
    assert website_id in cli.ok("website", "list")


def test_website_add_with_a_bad_origin_fails_and_creates_nothing(
    cli: Cli, database_url: str
) -> None:
    result = cli("website", "add", "Shop", "--origin", "ftp://shop.example")
    assert result.returncode != 0
    assert "ftp://shop.example" in result.stderr
    assert "origin" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert query(database_url, "SELECT count(*) FROM websites") == [(0,)]
    assert query(database_url, "SELECT count(*) FROM audit_log") == [(0,)]


# -- operators and tokens ----------------------------------------------------------------------


def test_operator_add_prints_a_one_time_password_stored_only_as_an_argon2_hash(
    cli: Cli, database_url: str, harness: Harness
) -> None:
    shop = harness.run(do_create_website(harness.rt, Actor.cli(), "Shop", [ORIGIN]))
    other = harness.run(do_create_website(harness.rt, Actor.cli(), "Other", ["https://o.example"]))

    output = cli.ok("operator", "add", "Ada@Shop.Example", "--website", shop.id, "--role", "owner")
    password = one_time_password_in(output)
    assert len(password) >= 12
    rows = query(database_url, "SELECT id, email, password_hash FROM operators")
    assert len(rows) == 1
    operator_id, email, stored = rows[0]
    assert email == "ada@shop.example"
    assert f"operator id: {operator_id}" in output
    assert stored.startswith("$argon2")
    assert PasswordHasher().verify(stored, password)
    for table in ("operators", "audit_log", "memberships"):
        assert password not in row_text(database_url, table)
    assert password.encode() not in database_files(database_url)
    assert query(database_url, "SELECT website_id, role FROM memberships") == [(shop.id, "owner")]

    # The same operator on another website: a role, no new password.
    again = cli.ok("operator", "add", "ada@shop.example", "--website", other.id)
    assert "one-time password" not in again
    assert "password unchanged" in again
    assert query(database_url, "SELECT password_hash FROM operators") == [(stored,)]
    memberships = query(database_url, "SELECT website_id, role FROM memberships")
    assert sorted(memberships) == sorted([(shop.id, "owner"), (other.id, "agent")])


def test_role_without_website_is_a_usage_error(
    cli: Cli, database_url: str, harness: Harness
) -> None:
    result = cli("operator", "add", "ada@shop.example", "--role", "owner")
    assert result.returncode == 2
    assert "--role needs --website" in result.stderr
    assert "Usage:" in result.stderr
    assert query(database_url, "SELECT count(*) FROM operators") == [(0,)]


def test_token_add_prints_a_token_stored_only_hashed(
    cli: Cli, database_url: str, harness: Harness
) -> None:
    added = harness.run(
        do_add_operator(harness.rt, Actor.cli(), "ada@shop.example", website_id=None, role=None)
    )
    token = cli.ok("token", "add", "ada@shop.example", "--name", "zapier").strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", token), token
    rows = query(database_url, "SELECT operator_id, name, token_hash FROM api_tokens")
    assert rows == [(added.operator.id, "zapier", hashlib.sha256(token.encode()).hexdigest())]
    assert token not in row_text(database_url, "api_tokens")
    assert token not in row_text(database_url, "audit_log")
    assert token.encode() not in database_files(database_url)


def test_token_add_for_an_unknown_operator_fails(cli: Cli, database_url: str) -> None:
    result = cli("token", "add", "nobody@shop.example")
    assert result.returncode == 1
    assert "nobody@shop.example" in result.stderr
    assert query(database_url, "SELECT count(*) FROM api_tokens") == [(0,)]


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


# -- jobs --------------------------------------------------------------------------------------


def _queued_and_failed_jobs(harness: Harness) -> tuple[str, str]:
    """A queued job and one that failed every attempt, made through the actions."""
    rt = harness.rt

    async def broken(rt: Runtime, job: Job) -> None:
        raise RuntimeError("the mail server said no")

    async def make() -> tuple[str, str]:
        async with rt.store.transaction() as tx:
            failing = await do_enqueue(rt, tx, "mail.visitor")
        for _ in range(MAX_ATTEMPTS):
            await do_run_due_jobs(rt, {"mail.visitor": Work(broken)})
            harness.clock.advance(timedelta(hours=1))
        async with rt.store.transaction() as tx:
            queued = await do_enqueue(rt, tx, JobKind.SEARCH_REINDEX, delay=timedelta(days=1))
        return queued, failing

    return harness.run(make())


def test_jobs_list_shows_queued_and_failed_jobs(cli: Cli, harness: Harness) -> None:
    queued, failed = _queued_and_failed_jobs(harness)

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


def test_jobs_retry_queues_a_failed_job_now(cli: Cli, harness: Harness) -> None:
    _, failed = _queued_and_failed_jobs(harness)
    output = cli.ok("jobs", "retry", failed)
    assert failed in output
    assert harness.rows("SELECT state, attempts FROM jobs WHERE id = :id", id=failed) == [
        ("queued", 0)
    ]


def test_jobs_retry_of_an_unknown_id_exits_1_with_one_line(cli: Cli, harness: Harness) -> None:
    _queued_and_failed_jobs(harness)
    before = harness.rows("SELECT id, state, attempts, run_at FROM jobs ORDER BY id")
    result = cli("jobs", "retry", "nosuchjob")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["causerie: no job 'nosuchjob'"]
    assert harness.rows("SELECT id, state, attempts, run_at FROM jobs ORDER BY id") == before


# -- settings ----------------------------------------------------------------------------------


def test_a_bad_setting_exits_2_naming_the_variable(tmp_path: Path) -> None:
    cli = Cli(tmp_path, None, CAUSERIE_MAX_BODY="lots")
    result = cli.process("website", "list")  # status and stream as a shell sees them
    assert result.returncode == 2
    assert "CAUSERIE_MAX_BODY" in result.stderr
    assert "lots" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (cli.data_dir / "causerie.db").exists()


def test_a_bad_setting_in_causerie_toml_exits_2_naming_the_file(tmp_path: Path) -> None:
    cli = Cli(tmp_path, None)
    cli.data_dir.mkdir()
    (cli.data_dir / "causerie.toml").write_text('temporary_session_ttl = "soon"\n')
    result = cli("purge", "--dry-run")
    assert result.returncode == 2
    assert "CAUSERIE_TEMPORARY_SESSION_TTL" in result.stderr
    assert "causerie.toml" in result.stderr


def test_operator_add_without_a_website_creates_the_operator(tmp_path: Path) -> None:
    cli = Cli(tmp_path, None)
    result = cli("operator", "add", "ada@shop.example")
    assert result.returncode == 0, result.stderr
    assert "one-time password" in result.stdout


def test_role_is_checked(tmp_path: Path) -> None:
    result = Cli(tmp_path, None)(
        "operator", "add", "a@b.example", "--website", "x", "--role", "god"
    )
    assert result.returncode == 2
    assert "god" in result.stderr


def test_unknown_website_for_operator_is_refused(tmp_path: Path) -> None:
    cli = Cli(tmp_path, None)
    result = cli("operator", "add", "a@b.example", "--website", "nosuchwebsite")
    assert result.returncode == 1
    assert "nosuchwebsite" in result.stderr
    db = f"sqlite:///{cli.data_dir / 'causerie.db'}"
    assert query(db, "SELECT count(*) FROM operators") == [(0,)]


def test_version_through_the_installed_entry_point(tmp_path: Path) -> None:
    """The `causerie` program pip installs (pyproject's [project.scripts]), not `python -m`."""
    program = Path(sys.executable).with_name("causerie")
    result = subprocess.run(
        [str(program), "--version"],
        env=cli_env(tmp_path / "data"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"\d+\.\d+\.\d+", result.stdout)
    assert Cli(tmp_path, None)("--version").stdout == result.stdout


# -- a newcomer's first steps (issue 12) -------------------------------------------------------


def _one_line(result: Ran | subprocess.CompletedProcess[str]) -> str:
    """The single line a failed command printed, after checking it printed nothing else."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""
    return lines[0]


def test_a_postgresql_server_that_is_down_is_one_line_and_exit_2(tmp_path: Path) -> None:
    url = f"postgresql://ada:hunter2@127.0.0.1:{free_port()}/causerie"
    cli = Cli(tmp_path, url)
    for line in (
        _one_line(cli("website", "list")),
        _one_line(cli("migrate")),
        _one_line(cli.process("serve", "--port", str(free_port()))),
    ):
        assert "nothing answers at 127.0.0.1" in line and "CAUSERIE_DATABASE_URL" in line
        assert "hunter2" not in line


@pytest.mark.parametrize(
    ("change", "said"),
    [({"database": "causerie_no_such_db"}, "does not exist"), ({"username": "nosuchrole"}, "role")],
    ids=["missing database", "unknown role"],
)
def test_a_missing_database_or_role_is_one_line_and_exit_2(
    tmp_path: Path, request: pytest.FixtureRequest, change: dict[str, str], said: str
) -> None:
    admin: str | None = request.getfixturevalue("postgres_database")
    if admin is None:
        pytest.skip("PostgreSQL is not reachable")
    url = make_url(admin).set(**change).render_as_string(hide_password=False)
    for command in (("website", "list"), ("migrate",)):
        line = _one_line(Cli(tmp_path, url)(*command))
        assert said in line and "CAUSERIE_DATABASE_URL" in line


def test_a_redis_that_does_not_answer_is_one_line_and_exit_2(tmp_path: Path) -> None:
    redis_url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    cli = Cli(tmp_path, None, CAUSERIE_REDIS_URL=redis_url)
    for line in (
        _one_line(cli("operator", "list")),
        _one_line(cli.process("serve", "--port", str(free_port()))),
    ):
        assert "Redis" in line and "does not answer" in line and "CAUSERIE_REDIS_URL" in line
        assert "hunter2" not in line


@pytest.mark.parametrize("blocked", ["secret_key", "causerie.db"])
def test_an_unusable_data_folder_is_one_line_and_exit_2(tmp_path: Path, blocked: str) -> None:
    """Running as root, a folder cannot be made unwritable: a folder where Causerie must write
    a file fails the same way (the operating system refuses the write)."""
    cli = Cli(tmp_path, None)
    (cli.data_dir / blocked).mkdir(parents=True)
    line = _one_line(cli("website", "list"))
    assert str(cli.data_dir / blocked) in line


def test_every_commands_short_help_is_a_whole_sentence() -> None:
    """click cuts a short help at the first full stop ("GDPR Art.")."""

    def commands(group: click.Group) -> Iterator[click.Command]:
        for command in group.commands.values():
            yield command
            if isinstance(command, click.Group):
                yield from commands(command)

    for command in commands(main):
        first = " ".join((command.help or "").split("\n\n")[0].split())
        short = command.get_short_help_str(limit=1000)
        assert short.removesuffix(".") == first.removesuffix("."), command.name


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


def test_operator_list_shows_operators_and_their_roles(cli: Cli, harness: Harness) -> None:
    rt = harness.rt
    shop = harness.run(do_create_website(rt, Actor.cli(), "Shop", [ORIGIN]))
    other = harness.run(do_create_website(rt, Actor.cli(), "Other", ["https://o.example"]))
    ada = harness.run(
        do_add_operator(
            rt, Actor.cli(), "ada@shop.example", website_id=shop.id, role=Role.OWNER, name="Ada"
        )
    ).operator
    bob = harness.run(
        do_add_operator(rt, Actor.cli(), "bob@o.example", website_id=other.id, role=None)
    ).operator
    cleo = harness.run(
        do_add_operator(rt, Actor.cli(), "cleo@x.example", website_id=None, role=None)
    ).operator  # of no website

    listed = json.loads(cli.ok("operator", "list", "--json"))
    assert sorted(listed, key=lambda row: row["email"]) == [
        {
            "id": ada.id,
            "email": "ada@shop.example",
            "name": "Ada",
            "website_id": shop.id,
            "role": "owner",
            "pending": False,
        },
        {
            "id": bob.id,
            "email": "bob@o.example",
            "name": "bob",
            "website_id": other.id,
            "role": "agent",
            "pending": False,
        },
        {
            "id": cleo.id,
            "email": "cleo@x.example",
            "name": "cleo",
            "website_id": None,
            "role": None,
            "pending": False,
        },
    ]
    only_shop = json.loads(cli.ok("operator", "list", "--website", shop.id, "--json"))
    assert [row["email"] for row in only_shop] == ["ada@shop.example"]
    table = cli.ok("operator", "list")
    assert "ada@shop.example" in table and "bob@o.example" in table and "owner" in table
    assert "cleo@x.example" in table and "(none)" in table
    # Over the API nobody sees the accounts of no website.
    with pytest.raises(Forbidden):
        harness.run(get_operators_without_website(rt, Actor("operator", operator_id=ada.id)))
    unknown = cli("operator", "list", "--website", "nosuchwebsite")
    assert unknown.returncode == 1 and "nosuchwebsite" in unknown.stderr


def test_a_website_name_has_one_limit_the_domains(cli: Cli, database_url: str) -> None:
    longest = "n" * NAME_MAX
    assert website_id_in(cli.ok("website", "add", longest, "--origin", ORIGIN))
    refused = cli("website", "add", longest + "n", "--origin", ORIGIN)
    assert refused.returncode == 1 and f"1 to {NAME_MAX} characters" in refused.stderr
    assert query(database_url, "SELECT name FROM websites") == [(longest,)]
    # The inbox's form says the same, for a new website and for an existing one.
    form = (ROOT / "src/causerie/inbox/settings.js").read_text()
    lengths = re.findall(r'el\("input", \{ name: "name",[^}]*maxlength: (\d+)', form)
    assert lengths == [str(NAME_MAX), str(NAME_MAX)]
    assert WebsiteIn.model_json_schema()["properties"]["name"]["maxLength"] == NAME_MAX
