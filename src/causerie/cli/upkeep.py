"""Keeping the data in shape: `causerie purge`, `causerie reports rebuild`, `causerie jobs`."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

import click

from causerie.actions.jobs import do_retry_job, do_run_due_jobs, get_jobs
from causerie.actions.reports import do_rebuild
from causerie.actions.retention import BATCH_SIZE, do_purge
from causerie.cli.group import main
from causerie.cli.output import add_id_column, add_row, new_table, out, plural
from causerie.cli.params import GIVEN
from causerie.cli.running import Watch, get_settings, interrupted, run
from causerie.domain.jobs import Job, JobState
from causerie.domain.progress import Stopped
from causerie.domain.retention import RULE_DOCS, Rule
from causerie.domain.wire import iso


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
    watch = Watch("would remove" if dry_run else "removed")
    try:
        with watch.watching():
            counts = run(
                get_settings(),
                lambda rt: do_purge(rt, dry_run=dry_run, batch_size=batch_size, progress=watch),
            )
    except Stopped as stopped:
        done = ", ".join(f"{rule} {count}" for rule, count in stopped.done.items() if count)
        interrupted(
            f"{'counted' if dry_run else 'removed'} {done or 'nothing'} "
            "(each batch removed whole); run causerie purge again for the rest"
        )
    if as_json:
        out().print_json(json.dumps({"dry_run": dry_run, "removed": counts}))
        return
    table = new_table("would remove (dry run)" if dry_run else "removed")
    table.add_column("rule")
    table.add_column("count", justify="right")
    table.add_column("what")
    for rule in Rule:
        table.add_row(rule.value, str(counts[rule.value]), RULE_DOCS[rule])
    out().print(table)


@main.group()
def reports() -> None:
    """Reports' rollups (docs/reports.md)."""


@reports.command("rebuild")
@click.option(
    "--website", "website_id", default=None, type=GIVEN, help="One website's id (default: all)."
)
def reports_rebuild(website_id: str | None) -> None:
    """Rebuild the reports' rollups exactly from the sessions, conversations and messages."""
    watch = Watch("rebuilt")
    try:
        with watch.watching():
            count = run(
                get_settings(), lambda rt: do_rebuild(rt, website_id=website_id, progress=watch)
            )
    except Stopped as stopped:
        done = stopped.done.get("websites", 0)
        interrupted(f"rebuilt {plural(done, 'website')}; run causerie reports rebuild again")
    out().print(f"rebuilt the reports of {plural(count, 'website')}")


@main.group()
def jobs() -> None:
    """Background work: purges, mail, pushes, webhook deliveries, file deletions, assignment,
    auto-resolve, search-index rebuilds (docs/architecture.md)."""


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
    found = run(get_settings(), lambda rt: get_jobs(rt, wanted))
    if as_json:
        click.echo(json.dumps([_job_json(job) for job in found]))
        return
    print_jobs(found)


def print_jobs(found: list[Job]) -> None:
    """One line a job, fitting 80 columns (a terminal's default) whatever the kind, then each
    last error whole, wrapped to the width under the id it belongs to. Every cell of the table
    used to fold into eight-letter pieces in 80 columns, a job over twenty lines."""
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, padding=(0, 1, 0, 0), show_edge=False)
    add_id_column(table)
    for header in ("kind", "state"):
        table.add_column(header, no_wrap=True)
    table.add_column("tries", justify="right", no_wrap=True)
    table.add_column("run at (UTC)", no_wrap=True)
    for job in found:
        add_row(
            table, job.id, job.kind, job.state.value, str(job.attempts),
            job.run_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        )  # fmt: skip
    console = out()
    console.print(table)
    for job in found:
        if job.last_error:
            console.print(Text(f"\nlast error of {job.id}:"))
            console.print(
                Padding(Text(job.last_error), (0, 0, 0, 2), expand=False), soft_wrap=False
            )


@jobs.command("run")
def jobs_run() -> None:
    """Run the jobs that are due now, here, one at a time (Ctrl-C stops between two)."""
    from causerie.actions.job_kinds import KINDS

    watch = Watch("ran")
    try:
        with watch.watching():
            ran = run(get_settings(), lambda rt: do_run_due_jobs(rt, KINDS, watch))
    except Stopped as stopped:
        interrupted(f"ran {plural(stopped.done['jobs'], 'job')}; the others wait for the next run")
    out().print(f"ran {plural(ran, 'job')}")


@jobs.command("retry")
@click.argument("job_id")
def jobs_retry(job_id: str) -> None:
    """Run a queued or failed job now (its attempts start afresh)."""
    job = run(get_settings(), lambda rt: do_retry_job(rt, job_id))
    out().print(f"job {job.id} ({job.kind}) queued to run now")
