"""More of the third outside audit (tests/test_spec_audit3.py): the OpenAPI document of the
uploads declared a `200` they never answer (an upload always stores a new message, 201), so a
client generated from it expected a second success. SQLite only."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest


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
