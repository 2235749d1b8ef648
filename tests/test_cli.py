"""The `causerie` command on SQLite and PostgreSQL (docs/cli.md): first run,
migrations, settings, the program itself, failures a newcomer meets. Records (websites,
operators, tokens): test_cli_records.py; purge, deletion, erasure, jobs: test_cli_upkeep.py.

Most commands run in this process (tests/support.py `invoke_cli`: click's runner on the real
command group, the environment a subprocess would get); real processes are kept for what only a
process shows: the installed entry point, exit statuses and streams as a shell sees them, standard
input a terminal or not, and `serve`, which would hold its socket.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from sqlalchemy import make_url

from causerie.cli import main
from causerie.domain.websites import NAME_MAX
from causerie.store.schema import metadata
from tests import cli_support
from tests.cli_support import (
    Cli,
)
from tests.conftest import ORIGIN
from tests.support import (
    CLI_TIMEOUT,
    Ran,
    cli_env,
    empty_database,
    free_port,
    is_sqlite,
    table_names,
)

cli = cli_support.cli  # the fixture


ROOT = Path(__file__).resolve().parent.parent


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


# -- settings ----------------------------------------------------------------------------------


def test_a_bad_setting_exits_2_naming_the_variable(tmp_path: Path) -> None:
    cli = Cli(tmp_path, None, CAUSERIE_MAX_BODY="lots")
    result = cli.process("website", "list")  # status and stream as a shell sees them
    assert result.returncode == 2
    assert "CAUSERIE_MAX_BODY" in result.stderr
    assert "lots" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (cli.data_dir / "causerie.db").exists()


def test_serve_refuses_a_size_past_its_bound_in_one_line(tmp_path: Path) -> None:
    cli = Cli(tmp_path, None, CAUSERIE_MAX_BODY="99999999999999999999KiB")
    line = _one_line(cli.process("serve", "--port", str(free_port())))
    assert line.startswith("causerie: bad setting: CAUSERIE_MAX_BODY = ")
    assert "expected at most 16MiB" in line


def test_a_bad_setting_in_causerie_toml_exits_2_naming_the_file(tmp_path: Path) -> None:
    cli = Cli(tmp_path, None)
    cli.data_dir.mkdir()
    (cli.data_dir / "causerie.toml").write_text('temporary_session_ttl = "soon"\n')
    result = cli("purge", "--dry-run")
    assert result.returncode == 2
    assert "CAUSERIE_TEMPORARY_SESSION_TTL" in result.stderr
    assert "causerie.toml" in result.stderr


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
