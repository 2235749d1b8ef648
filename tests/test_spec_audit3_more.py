"""More of the third outside audit (tests/test_spec_audit3.py): the OpenAPI document of the
uploads declared a `200` they never answered (now they do, for a `client_id` sent again, and
the document says so); `causerie serve --host` with a name that
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
def test_an_upload_declares_201_and_the_200_of_a_client_id_sent_again(
    http: httpx.Client, path: str
) -> None:
    post = http.get("/api/v1/openapi.json").json()["paths"][path]["post"]
    responses = post["responses"]
    for status in ("201", "200"):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith("/MessageBody")
    assert "client_id" in responses["200"]["description"]
    assert {"413", "415"} <= set(responses)
    form = post["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["file"] and "client_id" in form["properties"]


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
