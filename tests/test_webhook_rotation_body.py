"""`POST /api/v1/webhooks/{id}/rotate` takes no body, or `{}` (the inbox's); a field is refused
naming it, and nothing rotates (it used to be ignored: a client asking for its own secret got
a new random one). SQLite, over a real socket."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import Harness, Site
from tests.test_errors import error_of


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'causerie.db'}"


def _webhook(http: httpx.Client, site: Site, headers: dict[str, str]) -> str:
    created = http.post(
        f"/api/v1/websites/{site.website_id}/webhooks",
        json={"url": "https://hooks.example.com/causerie", "events": ["message.created"]},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    webhook_id: str = created.json()["webhook"]["id"]
    return webhook_id


def test_a_rotation_with_a_field_is_refused_naming_it_and_rotates_nothing(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    headers = {"Authorization": f"Bearer {site.tokens['owner']}"}
    webhook_id = _webhook(http, site, headers)
    secret_before = harness.scalar("SELECT secret FROM webhooks")
    rotate = f"/api/v1/webhooks/{webhook_id}/rotate"
    for body in ({"secret": "whsec_mine"}, {"keep_previous": False, "x": 1}):
        error = error_of(http.post(rotate, json=body, headers=headers), 422)
        assert error["code"] == "invalid_request"
        assert error["message"].startswith(next(iter(body))), error
    assert harness.scalar("SELECT secret FROM webhooks") == secret_before
    assert harness.scalar("SELECT previous_until FROM webhooks") is None
    for ok in ({"json": {}}, {}):  # the inbox sends {}; a client may send nothing
        rotated = http.post(rotate, headers=headers, **ok)  # type: ignore[arg-type]
        assert rotated.status_code == 200, rotated.text
        assert rotated.json()["secret"].startswith("whsec_")
    assert harness.scalar("SELECT secret FROM webhooks") != secret_before
