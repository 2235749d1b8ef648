"""The `causerie` command (docs/cli.md). Every command creates the data folder and brings the
schema up to date first, so any of them can be the first one run. None of them prompts, but
`privacy erase` on a terminal. A setting, database or Redis that cannot be used, or a port that
is taken, is one line on standard error and exit status 2; Ctrl-C ends any command quietly with
130."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

import click

from causerie.actions.accounts import do_create_setup_link
from causerie.actions.conversations import do_delete_conversation
from causerie.actions.jobs import do_retry_job, do_run_due_jobs, get_jobs
from causerie.actions.members import get_members
from causerie.actions.operators import (
    check_role_name,
    do_add_operator,
    do_create_api_token,
    get_operators_without_website,
)
from causerie.actions.privacy import do_erase_subject, do_export_subject, find_subject, get_register
from causerie.actions.reports import do_rebuild
from causerie.actions.retention import BATCH_SIZE, do_purge
from causerie.actions.websites import do_create_website, get_website
from causerie.clock import SystemClock
from causerie.domain.errors import DomainError, NotFound
from causerie.domain.jobs import Job, JobState
from causerie.domain.models import Actor, Member, Operator, Scope
from causerie.domain.progress import Stopped
from causerie.domain.retention import RULE_DOCS, Rule
from causerie.domain.websites import snippet
from causerie.domain.wire import iso
from causerie.runtime import Runtime
from causerie.settings import Settings, SettingsError, load_settings
from causerie.wiring import CannotStart, running, upgrade_schema

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress as Bar
    from rich.table import Table

T = TypeVar("T")


# rich (about 2 MiB resident) is imported by the commands that print through it, not by
# `causerie serve`, whose few lines are plain (docs/performance.md, "Lighter at rest, again").
@cache
def _console(stderr: bool) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def out() -> Console:
    """Standard output, through rich."""
    return _console(False)


def err() -> Console:
    """Standard error, through rich."""
    return _console(True)


def escape(text: str) -> str:
    """`text` with rich's markup escaped."""
    from rich.markup import escape

    return escape(text)


def _table(title: str | None = None) -> Table:
    from rich.table import Table

    return Table(title=title)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _settings(**overrides: str) -> Settings:
    try:
        return load_settings(None, **overrides)
    except SettingsError as exc:
        err().print(f"[red]causerie: bad setting:[/red] {escape(str(exc))}")
        sys.exit(2)


def _cannot_start(exc: CannotStart) -> None:
    err().print(f"[red]causerie:[/red] {escape(str(exc))}")
    sys.exit(2)


def _progress_bar() -> Bar:
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    return Bar(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err(),
        transient=True,
    )


class _Watch:
    """A long command's progress on standard error (standard output stays the command's result):
    a bar per part of the work on a terminal, else a plain line per part at most every
    `PLAIN_EVERY` seconds, and one when it ends. The first Ctrl-C asks the work to stop after the
    batch under way (`Stopped`); a second one abandons that batch (the database rolls it back).
    """

    PLAIN_EVERY = 1.0

    def __init__(self, verb: str) -> None:
        self.verb = verb
        self.stopping = False
        self.done: dict[str, int] = {}
        self._totals: dict[str, int | None] = {}
        self._said: dict[str, int] = {}
        self._last = 0.0
        self._bar = _progress_bar() if err().is_terminal else None
        self._tasks: dict[str, Any] = {}

    def begin(self, task: str, total: int | None) -> None:
        self._finish_lines()
        self.done[task] = 0
        self._totals[task] = total
        if self._bar is not None:
            self._tasks[task] = self._bar.add_task(f"{self.verb} {task}", total=total)
        elif total:
            self._line(task)  # what is ahead, when known

    def advance(self, task: str, steps: int) -> None:
        self.done[task] = self.done.get(task, 0) + steps
        if self._bar is not None:
            self._bar.update(self._tasks[task], completed=self.done[task])
        elif time.monotonic() - self._last >= self.PLAIN_EVERY:
            self._line(task)

    def stop_requested(self) -> bool:
        return self.stopping

    def _line(self, task: str) -> None:
        total = self._totals.get(task)
        of = "" if total is None else f" of {total}"
        err().print(f"{self.verb} {task}: {self.done[task]}{of}", markup=False, highlight=False)
        self._said[task] = self.done[task]
        self._last = time.monotonic()

    def _finish_lines(self) -> None:
        """The last count of each part, unless its last line said it already."""
        if self._bar is None:
            for task, count in self.done.items():
                if self._said.get(task) != count:
                    self._line(task)

    def _interrupt(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping:
            raise KeyboardInterrupt
        self.stopping = True
        err().print(
            "stopping after the batch under way (Ctrl-C again to abandon it)...",
            markup=False,
        )

    @contextmanager
    def watching(self) -> Iterator[None]:
        previous = signal.signal(signal.SIGINT, self._interrupt)
        try:
            if self._bar is not None:
                with self._bar:
                    yield
            else:
                yield
                self._finish_lines()
        finally:
            signal.signal(signal.SIGINT, previous)


def _interrupted(summary: str) -> None:
    """A long command stopped on Ctrl-C: what it did, and status 130."""
    err().print(f"interrupted: {summary}", markup=False)
    sys.exit(130)


def _run(settings: Settings, action: Callable[[Runtime], Awaitable[T]]) -> T:
    """Bring the schema up to date, then run `action` with the runtime the server would have:
    its events reach live inboxes through the broker (Redis when configured)."""

    async def main() -> T:
        async with running(settings, SystemClock()) as rt:
            return await action(rt)

    try:
        return asyncio.run(main())
    except CannotStart as exc:
        _cannot_start(exc)
        raise  # unreachable: _cannot_start exits
    except DomainError as exc:
        err().print(f"[red]causerie:[/red] {exc.message}")
        sys.exit(1)


def _listen(host: str, port: int, option: str = "--port") -> socket.socket:
    """A socket listening on host:port, taken before anything is printed; a port in use (or an
    address this machine does not have) is one line and exit status 2."""
    from causerie.server import listen

    try:
        return listen(host, port)
    except OSError as exc:
        err().print(
            f"[red]causerie:[/red] cannot listen on {escape(host)}:{port}: "
            f"{escape(exc.strerror or str(exc))}; stop what uses it or choose another {option}"
        )
        sys.exit(2)


class _Commands(click.Group):
    """The `causerie` group: Ctrl-C ends a command with status 130 and no "Aborted!"."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            sys.exit(130)


@click.group(cls=_Commands)
@click.version_option(package_name="causerie")
def main() -> None:
    """Causerie: a self-hosted, privacy-first live chat for websites."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def serve(host: str, port: int) -> None:
    """Run the server (creates the data folder and database on first run)."""
    from causerie.server import collector_paused, uvicorn_options

    settings = _settings()
    if settings.sources.get("public_url") == "the default":
        # Nobody said where the server is reached: it is where it listens.
        shown = f"[{host}]" if ":" in host else host
        settings = _settings(public_url=f"http://{shown}:{port}")
    listening = _listen(host, port)
    setup_link = _run(settings, do_create_setup_link)
    # Plain lines: rich stays unloaded in the server's process.
    click.echo(f"Causerie serving on http://{host}:{port}  (data: {settings.data_dir})")
    click.echo(f"Inbox: {settings.public_url}/app/")
    if setup_link is not None:
        click.echo(
            "Fresh install: create the first owner with this one-time link (valid 24 hours):"
        )
        click.echo(f"  {setup_link}")
    with collector_paused():
        import uvicorn

        from causerie.app import create_app

        app = create_app(settings)
    config = uvicorn.Config(app, **uvicorn_options(settings))
    uvicorn.Server(config).run(sockets=[listening])


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port of the Causerie server.",
)
@click.option(
    "--shop-port",
    default=8001,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port of the sample shop (a second origin) that embeds the chatbox.",
)
@click.option(
    "--data-dir",
    default="./causerie-demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The demo's own folder (SQLite database and secret key), apart from serve's.",
)
def demo(host: str, port: int, shop_port: int, data_dir: Path) -> None:
    """Serve Causerie and a sample shop with the chatbox, to see a live chat in a minute."""
    from causerie.demo import DEMO_OPERATOR, prepare, serve_demo

    if port == shop_port:
        raise click.UsageError("--port and --shop-port must differ")
    shop = f"http://{host}:{shop_port}"
    # The demo's operator and website never land in the real install's folder or database.
    folder = data_dir.expanduser().resolve()
    settings = _settings(
        public_url=f"http://{host}:{port}",
        data_dir=str(folder),
        database_url=f"sqlite:///{folder / 'causerie.db'}",
    )
    sockets = [_listen(host, port), _listen(host, shop_port, "--shop-port")]
    website, token, password = _run(settings, lambda rt: prepare(rt, shop))
    out().print(f"Causerie:  http://{host}:{port}")
    out().print(f"Demo shop: {shop}   (open it, click the chat button, say hello)")
    out().print(f"Inbox:     http://{host}:{port}/app/   (answer there)")
    out().print(f"  log in as {DEMO_OPERATOR} with the password {password}", markup=False)
    out().print(f"Website id: {website.id}")
    out().print("Or answer over the API, with this token (shown once):")
    out().print(f"  {token}", markup=False)
    out().print(f"Demo data: {folder}   (its own folder: `causerie serve` does not use it)")
    asyncio.run(serve_demo(settings, website.id, f"http://{host}:{port}", sockets))


@main.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    settings = _settings()
    watch = _Watch("applied")
    try:
        with watch.watching():
            applied = asyncio.run(upgrade_schema(settings, watch))
    except CannotStart as exc:
        _cannot_start(exc)
    except Stopped:
        _interrupted("no migration applied, the schema is as it was; run causerie migrate again")
    out().print("schema updated" if applied else "schema already up to date")


@main.command()
@click.option("--dry-run", is_flag=True, help="Count what would be removed; remove nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=BATCH_SIZE,
    show_default=True,
    help="Rows removed per transaction (smaller: requests served meanwhile wait less).",
)
def purge(dry_run: bool, as_json: bool, batch_size: int) -> None:
    """Run every retention rule now and print what it removed."""
    watch = _Watch("would remove" if dry_run else "removed")
    try:
        with watch.watching():
            counts = _run(
                _settings(),
                lambda rt: do_purge(rt, dry_run=dry_run, batch_size=batch_size, progress=watch),
            )
    except Stopped as stopped:
        done = ", ".join(f"{rule} {count}" for rule, count in stopped.done.items() if count)
        _interrupted(
            f"{'counted' if dry_run else 'removed'} {done or 'nothing'} "
            "(each batch removed whole); run causerie purge again for the rest"
        )
    if as_json:
        out().print_json(json.dumps({"dry_run": dry_run, "removed": counts}))
        return
    table = _table("would remove (dry run)" if dry_run else "removed")
    table.add_column("rule")
    table.add_column("count", justify="right")
    table.add_column("what")
    for rule in Rule:
        table.add_row(rule.value, str(counts[rule.value]), RULE_DOCS[rule])
    out().print(table)


@main.group()
def website() -> None:
    """Websites that embed the chatbox."""


@website.command("add")
@click.argument("name")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    required=True,
    help="An origin allowed to embed the chatbox (repeat for several).",
)
def website_add(name: str, origins: tuple[str, ...]) -> None:
    """Create a website; print its id and the snippet to paste."""
    settings = _settings()
    site = _run(settings, lambda rt: do_create_website(rt, Actor.cli(), name, list(origins)))
    out().print(f"website id: {site.id}")
    out().print(f"origins: {', '.join(site.origins)}")
    out().print("embed snippet (paste before </body>):")
    out().print(snippet(site.id, settings.public_url), markup=False)


async def _websites(rt: Runtime) -> list[Any]:
    async with rt.store.read() as tx:
        return await tx.websites.list_all()


@website.command("list")
def website_list() -> None:
    """List websites."""
    table = _table()
    for column in ("id", "name", "origins"):
        table.add_column(column)
    for site in _run(_settings(), _websites):
        table.add_row(site.id, site.name, ", ".join(site.origins))
    out().print(table)


@main.group()
def operator() -> None:
    """Operators (agents) and their roles."""


@operator.command("add")
@click.argument("email")
@click.option("--website", "website_id", help="Website id to give the operator a role on.")
@click.option(
    "--role",
    type=click.Choice(["owner", "admin", "agent"]),
    default=None,
    help="Role on --website (default: agent).",
)
@click.option("--name", default=None, help="Display name (default: the email's local part).")
def operator_add(email: str, website_id: str | None, role: str | None, name: str | None) -> None:
    """Create an operator (printing a one-time password) or change their role."""
    if role is not None and website_id is None:
        raise click.UsageError("--role needs --website")
    granted = check_role_name(role) if role else None
    added = _run(
        _settings(),
        lambda rt: do_add_operator(
            rt, Actor.cli(), email, website_id=website_id, role=granted, name=name
        ),
    )
    out().print(f"operator id: {added.operator.id}")
    if website_id:
        out().print(f"role on {website_id}: {(granted or 'agent')}")
    if added.one_time_password:
        out().print(
            f"one-time password (shown once, change it at first login): {added.one_time_password}",
            markup=False,
        )
    else:
        out().print("existing operator: password unchanged")


@operator.command("list")
@click.option("--website", "website_id", help="Only the operators of this website.")
@click.option("--json", "as_json", is_flag=True, help="Print the operators as a JSON array.")
def operator_list(website_id: str | None, as_json: bool) -> None:
    """List operators with their role on each website (invited ones marked pending)."""

    async def get(rt: Runtime) -> list[tuple[str | None, Member | Operator]]:
        if website_id and await get_website(rt, website_id) is None:
            raise NotFound(f"no website {website_id!r}", "website_not_found")
        ids = [website_id] if website_id else [site.id for site in await _websites(rt)]
        found: list[tuple[str | None, Member | Operator]] = [
            (site_id, member)
            for site_id in ids
            for member in await get_members(rt, Actor.cli(), site_id)
        ]
        if not website_id:
            found += [
                (None, alone) for alone in await get_operators_without_website(rt, Actor.cli())
            ]
        return found

    found = _run(_settings(), get)
    if as_json:
        rows = [
            {
                "id": person.id,
                "email": person.email,
                "name": person.name,
                "website_id": site_id,
                "role": entry.role.value if isinstance(entry, Member) else None,
                "pending": entry.pending if isinstance(entry, Member) else False,
            }
            for site_id, entry in found
            for person in [entry.operator if isinstance(entry, Member) else entry]
        ]
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    table = _table()
    for column in ("id", "email", "name", "website", "role"):
        table.add_column(column)
    for site_id, entry in found:
        if isinstance(entry, Member):
            role = f"{entry.role.value} (pending)" if entry.pending else entry.role.value
            person = entry.operator
        else:
            role, person = "", entry
        table.add_row(person.id, person.email, person.name, site_id or "(none)", role)
    out().print(table)


@main.group()
def token() -> None:
    """API tokens for integrations and scripts."""


@token.command("add")
@click.argument("email")
@click.option("--name", default="cli", show_default=True)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(["read", "write"]),
    default=("read", "write"),
    show_default=True,
)
def token_add(email: str, name: str, scopes: tuple[str, ...]) -> None:
    """Create an API token acting as the operator EMAIL; it is printed once."""
    _, secret = _run(
        _settings(),
        lambda rt: do_create_api_token(
            rt, Actor.cli(), email, name=name, scopes=frozenset(Scope(s) for s in scopes)
        ),
    )
    out().print(secret, markup=False)


@main.group()
def conversation() -> None:
    """Conversations."""


@conversation.command("delete")
@click.argument("conversation_id")
def conversation_delete(conversation_id: str) -> None:
    """Destroy a conversation with its session, messages, profile and IP (P20)."""
    count = _run(_settings(), lambda rt: do_delete_conversation(rt, Actor.cli(), conversation_id))
    out().print(f"deleted conversation {conversation_id} and its {_plural(count, 'message')}")


@main.group()
def reports() -> None:
    """Reports' rollups (docs/reports.md)."""


@reports.command("rebuild")
@click.option("--website", "website_id", default=None, help="One website's id (default: all).")
def reports_rebuild(website_id: str | None) -> None:
    """Rebuild the reports' rollups exactly from the sessions, conversations and messages."""
    watch = _Watch("rebuilt")
    try:
        with watch.watching():
            count = _run(
                _settings(), lambda rt: do_rebuild(rt, website_id=website_id, progress=watch)
            )
    except Stopped as stopped:
        done = stopped.done.get("websites", 0)
        _interrupted(f"rebuilt {_plural(done, 'website')}; run causerie reports rebuild again")
    out().print(f"rebuilt the reports of {_plural(count, 'website')}")


@main.group()
def privacy() -> None:
    """Data-subject requests and the record of processing activities."""


@privacy.command("export")
@click.option("--email", required=True, help="The person's email address.")
def privacy_export(email: str) -> None:
    """Print everything held about a person, as JSON (P9)."""
    watch = _Watch("exported")
    try:
        with watch.watching():
            document = _run(
                _settings(),
                lambda rt: do_export_subject(rt, Actor.cli(), email=email, progress=watch),
            )
    except Stopped:
        _interrupted("nothing printed nor audited; run causerie privacy export again")
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


@privacy.command("erase")
@click.option("--email", required=True, help="The person's email address.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation on a terminal.")
def privacy_erase(email: str, yes: bool) -> None:
    """Erase a person: every session with their messages, profile, IPs and consent (P9)."""
    settings = _settings()
    if sys.stdin.isatty() and not yes:
        found = _run(settings, lambda rt: find_subject(rt, Actor.cli(), email=email))
        if not found:
            out().print(f"nothing held about {email}: nothing to erase", markup=False)
            return
        messages = sum(s.messages for s in found)
        click.confirm(
            f"Erase {_plural(len(found), 'session')} and {_plural(messages, 'message')} "
            f"of {email}? This cannot be undone",
            abort=True,
        )
    watch = _Watch("erased")
    try:
        with watch.watching():
            counts = _run(
                settings,
                lambda rt: do_erase_subject(rt, Actor.cli(), email=email, progress=watch),
            )
    except Stopped as stopped:
        erased = stopped.done
        _interrupted(
            f"erased {_plural(erased['sessions'], 'session')} and "
            f"{_plural(erased['messages'], 'message')} of {email}, each whole with its audit "
            "entry; run causerie privacy erase again for the rest"
        )
    if not counts["sessions"]:
        out().print(f"nothing held about {email}: nothing to erase", markup=False)
        return
    sessions = _plural(counts["sessions"], "session")
    out().print(f"erased {sessions} and {_plural(counts['messages'], 'message')}")


@privacy.command("register")
def privacy_register() -> None:
    """Print the record of processing activities (Article 30 of the GDPR) as Markdown."""
    click.echo(_run(_settings(), lambda rt: get_register(rt, Actor.cli())), nl=False)


@main.group()
def jobs() -> None:
    """Background work: purges, search-index rebuilds (docs/architecture.md)."""


def _job_json(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state.value,
        "attempts": job.attempts,
        "run_at": iso(job.run_at),
        "last_error": job.last_error,
    }


@jobs.command("list")
@click.option(
    "--state",
    type=click.Choice([state.value for state in JobState]),
    default=None,
    help="Only the jobs in this state.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the jobs as a JSON array.")
def jobs_list(state: str | None, as_json: bool) -> None:
    """List queued, running and failed jobs, soonest first."""
    wanted = JobState(state) if state else None
    found = _run(_settings(), lambda rt: get_jobs(rt, wanted))
    if as_json:
        click.echo(json.dumps([_job_json(job) for job in found]))
        return
    table = _table()
    for column in ("id", "kind", "state", "attempts", "run at", "last error"):
        table.add_column(column)
    for job in found:
        row = _job_json(job)
        table.add_row(
            job.id, job.kind, row["state"], str(job.attempts), row["run_at"], job.last_error or ""
        )
    out().print(table)


@jobs.command("run")
def jobs_run() -> None:
    """Run the jobs that are due now, here, one at a time (Ctrl-C stops between two)."""
    from causerie.actions.job_kinds import KINDS

    watch = _Watch("ran")
    try:
        with watch.watching():
            ran = _run(_settings(), lambda rt: do_run_due_jobs(rt, KINDS, watch))
    except Stopped as stopped:
        _interrupted(
            f"ran {_plural(stopped.done['jobs'], 'job')}; the others wait for the next run"
        )
    out().print(f"ran {_plural(ran, 'job')}")


@jobs.command("retry")
@click.argument("job_id")
def jobs_retry(job_id: str) -> None:
    """Run a queued or failed job now (its attempts start afresh)."""
    job = _run(_settings(), lambda rt: do_retry_job(rt, job_id))
    out().print(f"job {job.id} ({job.kind}) queued to run now")
