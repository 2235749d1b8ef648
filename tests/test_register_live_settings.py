"""`causerie privacy register` is written from the live settings (SPEC.md "Command line"): each
row's retention names the setting with the value in force, as the table of settings below it
does. The rows said the defaults ("CAUSERIE_CHAT_IP_RETENTION (365 days)") whatever was set, so
one document gave two retentions for the same data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli_support import Cli

SET = {
    "CAUSERIE_CHAT_IP_RETENTION": ("30d", "30 days"),
    "CAUSERIE_TEMPORARY_SESSION_TTL": ("45m", "45 minutes"),
    "CAUSERIE_LOGIN_TTL": ("7d", "7 days"),
    "CAUSERIE_AUDIT_RETENTION": ("90d", "90 days"),
}


def _named(register: str, setting: str) -> set[str]:
    """Every value the register gives `setting`: in a row's text and in the settings' table."""
    in_rows = set(re.findall(rf"{setting} \(([^)]*)\)", register))
    in_table = set(re.findall(rf"^\| `{setting}` \| ([^|]*) \|$", register, re.MULTILINE))
    return in_rows | in_table


@pytest.mark.parametrize("source", ["environment", "causerie.toml"])
def test_p2_the_register_names_each_retention_with_its_live_value(
    tmp_path: Path, source: str
) -> None:
    values = {name: text for name, (text, _) in SET.items()}
    if source == "environment":
        cli = Cli(tmp_path, None, **values)
    else:
        cli = Cli(tmp_path, None)
        cli.data_dir.mkdir(parents=True)
        lines = [f'{name} = "{text}"' for name, text in values.items()]
        (cli.data_dir / "causerie.toml").write_text("\n".join(lines) + "\n")
    ran = cli.process("privacy", "register")
    assert ran.returncode == 0, ran.stderr
    for setting, (_, words) in SET.items():
        assert _named(ran.stdout, setting) == {words}, (setting, ran.stdout)


def test_the_register_of_a_default_install_names_the_defaults(tmp_path: Path) -> None:
    ran = Cli(tmp_path, None).process("privacy", "register")
    assert ran.returncode == 0, ran.stderr
    assert _named(ran.stdout, "CAUSERIE_CHAT_IP_RETENTION") == {"365 days"}
    assert _named(ran.stdout, "CAUSERIE_TEMPORARY_SESSION_TTL") == {"30 minutes"}


def test_an_ip_kept_forever_is_said_so_in_its_row(tmp_path: Path) -> None:
    ran = Cli(tmp_path, None, CAUSERIE_CHAT_IP_RETENTION="forever").process("privacy", "register")
    assert ran.returncode == 0, ran.stderr
    assert _named(ran.stdout, "CAUSERIE_CHAT_IP_RETENTION") == {"forever"}
