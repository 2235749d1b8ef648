"""`causerie website`, `operator` and `token` on SQLite and PostgreSQL (docs/cli.md)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from causerie.actions.operators import do_add_operator, get_operators_without_website
from causerie.actions.websites import do_create_website
from causerie.domain.errors import Forbidden
from causerie.domain.models import Actor, Role
from causerie.domain.websites import NAME_MAX
from causerie.web.api_models import WebsiteIn
from tests import cli_support
from tests.cli_support import (
    Cli,
    database_files,
    one_time_password_in,
    row_text,
    website_id_in,
)
from tests.conftest import ORIGIN, Harness
from tests.support import (
    query,
)

cli = cli_support.cli  # the fixture


ROOT = Path(__file__).resolve().parent.parent


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


def test_an_option_given_empty_is_a_usage_error_naming_it(cli: Cli, harness: Harness) -> None:
    """`--website ""` is not `--website` left out (docs/cli.md), as an empty query parameter of
    the API is not one left out: `operator list --website ""` listed every website's operators,
    `operator add --name ""` named the operator after the email."""
    rt = harness.rt
    shop = harness.run(do_create_website(rt, Actor.cli(), "Shop", [ORIGIN]))
    harness.run(do_add_operator(rt, Actor.cli(), "ada@shop.example", website_id=shop.id, role=None))
    commands = (
        ("operator", "list", "--website", ""),
        ("operator", "add", "bob@shop.example", "--website", " "),
        ("operator", "add", "bob@shop.example", "--name", ""),
        ("token", "add", "ada@shop.example", "--name", ""),
        ("reports", "rebuild", "--website", ""),
    )
    for args in commands:
        result = cli(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "Invalid value for '--" in result.stderr and "given empty" in result.stderr, args
        assert result.stdout == ""
    assert query(harness.settings.database_url, "SELECT email FROM operators") == [
        ("ada@shop.example",)
    ]
    assert query(harness.settings.database_url, "SELECT count(*) FROM api_tokens") == [(0,)]
