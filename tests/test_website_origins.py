"""What `causerie website add NAME --origin URL` takes as an origin (SPEC.md "Command line";
docs/cli.md): what a browser sends in `Origin`, or a page's address reduced to it. A URL no browser
could send as its origin was stored as one, and the chatbox then refused every visitor of the
website without a word to its owner."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_support import Cli


@pytest.mark.parametrize(
    ("origin", "why"),
    [
        ("https://*.shop.example", "no name nor address"),
        ("https://shop.example:*", "invalid port"),
        ("https://shop example", "no name nor address"),
        ("https://user:secret@shop.example", "user name or password"),
        ("https://user@shop.example", "user name or password"),
        ("https://[zz]", "not a web origin"),  # a traceback
        ("https://[::1", "not a web origin"),
    ],
)
def test_an_origin_no_browser_sends_is_refused_naming_it_and_nothing_is_created(
    tmp_path: Path, origin: str, why: str
) -> None:
    cli = Cli(tmp_path, None)
    ran = cli.process("website", "add", "Shop", "--origin", origin)
    assert ran.returncode == 1, (ran.stdout, ran.stderr)
    assert ran.stdout == ""
    line = ran.stderr.strip()
    assert line.startswith(f"causerie: origins: {origin!r} "), line
    assert why in line, line
    assert "secret" not in line.replace(origin, ""), line
    listed = cli.process("website", "list")
    assert "Shop" not in listed.stdout, listed.stdout


def test_an_international_host_is_kept_as_browsers_send_it(tmp_path: Path) -> None:
    """Browsers send a host name in its ASCII form (`xn--...`): stored as typed, `café.example`
    matched no visitor's Origin."""
    cli = Cli(tmp_path, None)
    ran = cli.process("website", "add", "Café", "--origin", "https://Café.example/menu")
    assert ran.returncode == 0, ran.stderr
    listed = cli.process("website", "list").stdout
    assert "https://xn--caf-dma.example" in listed, listed
    assert "café.example" not in listed, listed
