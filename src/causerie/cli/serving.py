"""`causerie serve`, `causerie demo` and `causerie migrate`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from causerie.actions.accounts import do_create_setup_link
from causerie.cli.folder_lock import data_folder_held
from causerie.cli.group import main
from causerie.cli.output import out
from causerie.cli.params import GIVEN, GIVEN_FOLDER
from causerie.cli.running import Watch, cannot_start, get_settings, interrupted, listen, run
from causerie.domain.progress import Stopped
from causerie.wiring import CannotStart, upgrade_schema

# Addresses that mean "every address of this machine", and the one of them a browser here can use.
_LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104 (names them, binds nothing)


@main.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, type=GIVEN, help="Address to listen on."
)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on (one in use: choose another).",
)
def serve(host: str, port: int) -> None:
    """Run the server (creates the data folder and database on first run)."""
    from causerie.server import collector_paused, started_server, uvicorn_options

    if not host.strip():
        raise click.BadParameter("an address of this machine (or 0.0.0.0, ::)", param_hint="--host")
    settings = get_settings()
    if settings.sources.get("public_url") == "the default":
        # Nobody said where the server is reached: it is where it listens. Every address (0.0.0.0,
        # ::) is none a browser can use: this machine's own stands for it, and the note says why.
        reached = _LOOPBACK.get(host, host)
        shown = f"[{reached}]" if ":" in reached else reached
        settings = get_settings(warn=False, public_url=f"http://{shown}:{port}")
        if host in _LOOPBACK:
            click.echo(
                f"causerie: listening on every address: links and the inbox's origin check use "
                f"{settings.public_url}; set CAUSERIE_PUBLIC_URL to the address browsers use "
                "to reach this server (the inbox refuses changes made from another)",
                err=True,
            )
    listening = listen(host, port)
    with data_folder_held(settings, "CAUSERIE_DATA_DIR"):
        setup_link = run(settings, do_create_setup_link)
        # Plain lines: rich stays unloaded in the server's process.
        bound = f"[{host}]" if ":" in host else host
        click.echo(f"Causerie serving on http://{bound}:{port}  (data: {settings.data_dir})")
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
        started_server(config).run(sockets=[listening])


@main.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, type=GIVEN, help="Address to listen on."
)
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
    type=GIVEN_FOLDER,
    help="The demo's own folder (SQLite database and secret key), apart from serve's.",
)
def demo(host: str, port: int, shop_port: int, data_dir: Path) -> None:
    """Serve Causerie and a sample shop with the chatbox, to see a live chat in a minute."""
    from causerie.demo import DEMO_OPERATOR, prepare, serve_demo

    if port == shop_port:
        raise click.UsageError("--port and --shop-port must differ")
    if not host.strip():
        raise click.BadParameter("an address of this machine (or 0.0.0.0, ::)", param_hint="--host")
    listening = host
    host = _LOOPBACK.get(host, host)  # the shop's origin and the links: ones a browser can open
    host = f"[{host}]" if ":" in host else host
    shop = f"http://{host}:{shop_port}"
    # The demo's operator and website never land in the real install's folder or database.
    folder = data_dir.expanduser().resolve()
    settings = get_settings(
        public_url=f"http://{host}:{port}",
        data_dir=str(folder),
        database_url=f"sqlite:///{folder / 'causerie.db'}",
    )
    sockets = [listen(listening, port), listen(listening, shop_port, "--shop-port")]
    with data_folder_held(settings, "--data-dir"):
        website, token, password = run(settings, lambda rt: prepare(rt, shop))
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
    settings = get_settings()
    watch = Watch("applied")
    try:
        with watch.watching():
            applied = asyncio.run(upgrade_schema(settings, watch))
    except CannotStart as exc:
        cannot_start(exc)
    except Stopped:
        interrupted("no migration applied, the schema is as it was; run causerie migrate again")
    out().print("schema updated" if applied else "schema already up to date")
