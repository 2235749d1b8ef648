"""A `CAUSERIE_*` variable that names no setting, as the commands show it (docs/settings.md): a
misspelling of a setting stops every command, `serve` included, before it does anything; any other
is one warning line on standard error, and the command runs."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.cli_support import Cli


@pytest.mark.parametrize("command", [("serve",), ("purge", "--dry-run"), ("migrate",)])
def test_a_misspelt_setting_stops_the_command_naming_the_setting(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    cli = Cli(tmp_path, None, CAUSERIE_DATABSE_URL="postgresql://postgres@127.0.0.1:5432/x")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        # `serve` on a port already taken: were the setting not refused first, it would stop
        # on the port (another line) rather than serve on.
        port = str(taken.getsockname()[1])
        result = cli(*command, *(("--port", port) if command == ("serve",) else ()))
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "causerie: bad setting: CAUSERIE_DATABSE_URL (from the environment) is not a setting; "
        "did you mean CAUSERIE_DATABASE_URL?"
    ]
    assert not cli.data_dir.exists()


def test_a_variable_close_to_no_setting_is_a_warning_and_the_command_runs(
    tmp_path: Path,
) -> None:
    cli = Cli(tmp_path, None, CAUSERIE_BRIDGE_URL="https://hooks.example.org/x")
    result = cli("purge", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "temporary_sessions" in result.stdout
    assert result.stderr.strip().splitlines()[0] == (
        "causerie: warning: CAUSERIE_BRIDGE_URL (from the environment) is not a setting: "
        "Causerie ignores it (a plugin may read it)"
    )
