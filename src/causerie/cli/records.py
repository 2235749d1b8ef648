"""Administration without the web: websites, operators, API tokens, conversations."""

from __future__ import annotations

import json
from typing import Any

import click

from causerie.actions.conversations import do_delete_conversation
from causerie.actions.members import get_members
from causerie.actions.operators import (
    check_role_name,
    do_add_operator,
    do_create_api_token,
    get_operators_without_website,
)
from causerie.actions.websites import do_create_website, get_website
from causerie.cli.folder_lock import public_url
from causerie.cli.group import main
from causerie.cli.output import add_columns, add_id_column, add_row, new_table, out, plural
from causerie.cli.params import GIVEN
from causerie.cli.running import get_settings, run
from causerie.domain.errors import NotFound
from causerie.domain.models import Actor, Member, Operator, Scope
from causerie.domain.websites import snippet
from causerie.runtime import Runtime


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
    type=GIVEN,
    help="An origin allowed to embed the chatbox (repeat for several).",
)
def website_add(name: str, origins: tuple[str, ...]) -> None:
    """Create a website; print its id and the snippet to paste."""
    settings = get_settings()
    site = run(settings, lambda rt: do_create_website(rt, Actor.cli(), name, list(origins)))
    out().print(f"website id: {site.id}")
    out().print(f"origins: {', '.join(site.origins)}")
    out().print("embed snippet (paste before </body>):")
    out().print(snippet(site.id, public_url(settings)), markup=False)


async def _websites(rt: Runtime) -> list[Any]:
    async with rt.store.read() as tx:
        return await tx.websites.list_all()


@website.command("list")
def website_list() -> None:
    """List websites."""
    table = new_table()
    add_id_column(table)
    add_columns(table, "name", "origins")
    for site in run(get_settings(), _websites):
        add_row(table, site.id, site.name, ", ".join(site.origins))
    out().print(table)


@main.group()
def operator() -> None:
    """Operators (agents) and their roles."""


@operator.command("add")
@click.argument("email")
@click.option(
    "--website", "website_id", type=GIVEN, help="Website id to give the operator a role on."
)
@click.option(
    "--role",
    type=click.Choice(["owner", "admin", "agent"]),
    default=None,
    help="Role on --website (default: agent).",
)
@click.option(
    "--name", default=None, type=GIVEN, help="Display name (default: the email's local part)."
)
def operator_add(email: str, website_id: str | None, role: str | None, name: str | None) -> None:
    """Create an operator (printing a one-time password) or change their role."""
    if role is not None and website_id is None:
        raise click.UsageError("--role needs --website")
    granted = check_role_name(role) if role else None
    added = run(
        get_settings(),
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
@click.option("--website", "website_id", type=GIVEN, help="Only the operators of this website.")
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

    found = run(get_settings(), get)
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
    table = new_table()
    add_id_column(table)
    add_columns(table, "email", "name")
    add_id_column(table, "website")
    add_columns(table, "role")
    for site_id, entry in found:
        if isinstance(entry, Member):
            role = f"{entry.role.value} (pending)" if entry.pending else entry.role.value
            person = entry.operator
        else:
            role, person = "", entry
        add_row(table, person.id, person.email, person.name, site_id or "(none)", role)
    out().print(table)


@main.group()
def token() -> None:
    """API tokens for integrations and scripts."""


@token.command("add")
@click.argument("email")
@click.option(
    "--name",
    default="cli",
    show_default=True,
    type=GIVEN,
    help="The token's name, to tell it from others (1 to 200 characters, one line).",
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(["read", "write"]),
    default=("read", "write"),
    show_default=True,
    help="What it may do (docs/api.md): read, write, or both (the option given twice).",
)
def token_add(email: str, name: str, scopes: tuple[str, ...]) -> None:
    """Create an API token acting as the operator EMAIL; it is printed once."""
    _, secret = run(
        get_settings(),
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
    count = run(get_settings(), lambda rt: do_delete_conversation(rt, Actor.cli(), conversation_id))
    out().print(f"deleted conversation {conversation_id} and its {plural(count, 'message')}")
