"""Names given on the command line (docs/cli.md) are held to the API's rules: an operator's name
and a token's name are at most 200 characters, whitespace collapsed. `causerie operator add
--name` and `causerie token add --name` stored any length, and a name with new lines, which the
API and the inbox refuse or collapse; a refused one exits 1 naming it, and nothing is stored."""

from __future__ import annotations

from pathlib import Path

from tests.cli_support import Cli
from tests.support import query

LONG = "x" * 201


def _database(cli: Cli) -> str:
    return f"sqlite:///{cli.data_dir / 'causerie.db'}"


def test_an_operator_name_over_200_characters_is_refused_and_nothing_is_stored(
    tmp_path: Path,
) -> None:
    cli = Cli(tmp_path, None)
    ran = cli.process("operator", "add", "ada@shop.example", "--name", LONG)
    assert ran.returncode == 1, (ran.stdout, ran.stderr)
    assert ran.stderr.strip() == "causerie: name: 1 to 200 characters"
    assert query(_database(cli), "SELECT count(*) FROM operators") == [(0,)]


def test_a_token_name_over_200_characters_is_refused_and_nothing_is_stored(
    tmp_path: Path,
) -> None:
    cli = Cli(tmp_path, None)
    assert cli.process("operator", "add", "ada@shop.example").returncode == 0
    ran = cli.process("token", "add", "ada@shop.example", "--name", LONG)
    assert ran.returncode == 1, (ran.stdout, ran.stderr)
    assert ran.stderr.strip() == "causerie: name: 1 to 200 characters"
    assert query(_database(cli), "SELECT count(*) FROM api_tokens") == [(0,)]


def test_names_keep_to_one_line(tmp_path: Path) -> None:
    cli = Cli(tmp_path, None)
    added = cli.process("operator", "add", "ada@shop.example", "--name", " Ada\n  Lovelace ")
    assert added.returncode == 0, added.stderr
    token = cli.process("token", "add", "ada@shop.example", "--name", "deploy\nscript")
    assert token.returncode == 0, token.stderr
    url = _database(cli)
    assert query(url, "SELECT name FROM operators") == [("Ada Lovelace",)]
    assert query(url, "SELECT name FROM api_tokens") == [("deploy script",)]
