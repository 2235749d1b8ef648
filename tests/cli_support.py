"""The `causerie` command as the CLI tests call it (tests/test_cli*.py, and others that run it):
`Cli` with a test's data folder and database, its `cli` fixture (modules alias it:
`cli = cli_support.cli`), and what several of them read back from its output or the database."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from causerie.actions.jobs import Work, do_enqueue, do_run_due_jobs
from causerie.domain.jobs import MAX_ATTEMPTS, Job, JobKind
from causerie.runtime import Runtime
from causerie.store.schema import metadata
from tests.conftest import Harness
from tests.support import (
    Ran,
    cli_env,
    invoke_cli,
    is_sqlite,
    query,
    run_cli,
    sqlite_files,
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


def queued_and_failed_jobs(harness: Harness) -> tuple[str, str]:
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
