"""Data-subject requests from the shell, and the record of processing activities (P9, P11)."""

from __future__ import annotations

import json
import sys

import click

from causerie.actions.privacy import do_erase_subject, do_export_subject, find_subject, get_register
from causerie.cli.group import main
from causerie.cli.output import out, plural
from causerie.cli.params import GIVEN
from causerie.cli.running import Watch, get_settings, interrupted, run
from causerie.domain.models import Actor
from causerie.domain.progress import Stopped


@main.group()
def privacy() -> None:
    """Data-subject requests and the record of processing activities."""


@privacy.command("export")
@click.option("--email", required=True, type=GIVEN, help="The person's email address.")
def privacy_export(email: str) -> None:
    """Print everything held about a person, as JSON (P9)."""
    watch = Watch("exported")
    try:
        with watch.watching():
            document = run(
                get_settings(),
                lambda rt: do_export_subject(rt, Actor.cli(), email=email, progress=watch),
            )
    except Stopped:
        interrupted("nothing printed nor audited; run causerie privacy export again")
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


@privacy.command("erase")
@click.option("--email", required=True, type=GIVEN, help="The person's email address.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation on a terminal.")
def privacy_erase(email: str, yes: bool) -> None:
    """Erase a person: every session with their messages, profile, IPs and consent (P9)."""
    settings = get_settings()
    if sys.stdin.isatty() and not yes:
        found = run(settings, lambda rt: find_subject(rt, Actor.cli(), email=email))
        if not found:
            out().print(f"nothing held about {email}: nothing to erase", markup=False)
            return
        messages = sum(s.messages for s in found)
        click.confirm(
            f"Erase {plural(len(found), 'session')} and {plural(messages, 'message')} "
            f"of {email}? This cannot be undone",
            abort=True,
        )
    watch = Watch("erased")
    try:
        with watch.watching():
            counts = run(
                settings,
                lambda rt: do_erase_subject(rt, Actor.cli(), email=email, progress=watch),
            )
    except Stopped as stopped:
        erased = stopped.done
        interrupted(
            f"erased {plural(erased['sessions'], 'session')} and "
            f"{plural(erased['messages'], 'message')} of {email}, each whole with its audit "
            "entry; run causerie privacy erase again for the rest"
        )
    if not counts["sessions"]:
        out().print(f"nothing held about {email}: nothing to erase", markup=False)
        return
    sessions = plural(counts["sessions"], "session")
    out().print(f"erased {sessions} and {plural(counts['messages'], 'message')}")


@privacy.command("register")
def privacy_register() -> None:
    """Print the record of processing activities (Article 30 of the GDPR) as Markdown."""
    click.echo(run(get_settings(), lambda rt: get_register(rt, Actor.cli())), nl=False)
