"""More of the third outside audit (tests/test_spec_audit3.py): the OpenAPI document of the
uploads declared a `200` they never answer (an upload always stores a new message, 201), so a
client generated from it expected a second success; `causerie serve --host` with a name that
does not resolve or an address the machine lacks was told to free the port. SQLite only."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support import cli_env, free_port, run_cli


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'causerie.db'}"


@pytest.mark.parametrize(
    "path", ["/api/widget/v1/session/files", "/api/v1/conversations/{conversation_id}/files"]
)
def test_an_upload_declares_201_and_not_a_200_it_never_answers(
    http: httpx.Client, path: str
) -> None:
    responses = http.get("/api/v1/openapi.json").json()["paths"][path]["post"]["responses"]
    assert "200" not in responses
    schema = responses["201"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/MessageBody")
    assert {"413", "415"} <= set(responses)


@pytest.mark.parametrize("host", ["nohost.invalid", "999.1.1.1", "203.0.113.9"])
def test_a_host_serve_cannot_listen_on_is_told_to_check_the_host_not_free_the_port(
    tmp_path: Path, host: str
) -> None:
    """A name that does not resolve, or an address this machine does not have, was told "stop
    what uses it or choose another --port": the port was never the trouble."""
    result = run_cli(
        "serve", "--host", host, "--port", str(free_port()),
        env=cli_env(tmp_path / "data"), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"causerie: cannot listen on {host}:")
    assert line.endswith("check --host: it must be an address of this machine (or 0.0.0.0, ::)")
    assert "--port" not in line
