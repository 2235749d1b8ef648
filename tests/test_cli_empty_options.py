"""Every option of the command line taking a text refuses it given empty (docs/cli.md): a usage
error naming the option, exit 2, nothing done. `privacy export --email ""` exited 1 from the
address check, where the other options given empty were usage errors."""

from __future__ import annotations

from collections.abc import Iterator

import click

from causerie.cli import main
from causerie.cli.params import GIVEN, GIVEN_FOLDER
from tests import cli_support
from tests.cli_support import Cli
from tests.conftest import Harness
from tests.support import query

cli = cli_support.cli  # the fixture


def _options(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Option]]:
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _options(command, (*path, name))
            continue
        for parameter in command.params:
            if isinstance(parameter, click.Option) and not parameter.is_flag:
                yield " ".join((*path, name)), parameter


def test_every_option_taking_a_text_or_a_folder_refuses_it_empty() -> None:
    """Options of numbers and choices have types of their own, which refuse an empty value;
    every other one is GIVEN (a text) or GIVEN_FOLDER (a folder: `--data-dir ""` was the current
    folder), so none reads an empty value as given, now or in a command added later."""
    options = list(_options(main))
    loose = [
        (command, option.name)
        for command, option in options
        if not isinstance(option.type, click.IntRange | click.Choice)
        and option.type not in (GIVEN, GIVEN_FOLDER)
    ]
    assert loose == []
    given = {(command, option.name) for command, option in options if option.type is GIVEN}
    assert {("privacy export", "email"), ("privacy erase", "email"), ("serve", "host")} <= given


def test_an_empty_email_or_origin_is_a_usage_error_and_nothing_is_done(
    cli: Cli, harness: Harness
) -> None:
    commands = (
        ("privacy", "export", "--email", ""),
        ("privacy", "erase", "--email", "", "--yes"),
        ("privacy", "erase", "--email=", "--yes"),
        ("website", "add", "Shop", "--origin", ""),
    )
    for args in commands:
        result = cli(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "Invalid value for '--" in result.stderr and "given empty" in result.stderr, args
        assert result.stdout == ""
    assert query(harness.settings.database_url, "SELECT count(*) FROM websites") == [(0,)]
    assert query(harness.settings.database_url, "SELECT count(*) FROM audit_log") == [(0,)]
