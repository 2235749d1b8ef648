"""`CAUSERIE_MAX_BODY` and `CAUSERIE_MAX_FILE` have floors (docs/settings.md): 1 byte was taken,
and every message or file was refused with 413. The body's floor holds the largest message."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from causerie.actions.messages import MAX_BODY_CHARS
from causerie.settings import Settings, SettingsError, load_settings
from causerie.settings.server import BODY_AT_LEAST, FILE_AT_LEAST
from tests.conftest import ORIGIN, Harness, ServerThread, Site
from tests.test_session_endpoint import open_session


def load(tmp_path: Path, **environ: str) -> Settings:
    return load_settings(environ={"CAUSERIE_DATA_DIR": str(tmp_path), **environ})


@pytest.mark.parametrize(
    ("variable", "floor", "shown"),
    [("CAUSERIE_MAX_BODY", BODY_AT_LEAST, "48KiB"), ("CAUSERIE_MAX_FILE", FILE_AT_LEAST, "64KiB")],
)
@pytest.mark.parametrize("below", ["1", "512B", "1KiB"])
def test_a_size_under_its_floor_is_a_bad_setting_naming_the_floor(
    tmp_path: Path, variable: str, floor: int, shown: str, below: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        load(tmp_path, **{variable: below})
    message = str(caught.value)
    assert message.startswith(
        f"{variable} = '{below}' (from the environment): expected at least {shown} "
        f"({floor} bytes): "
    )
    assert load(tmp_path, **{variable: str(floor)}).model_dump()[variable[9:].lower()] == floor
    with pytest.raises(SettingsError, match=f"expected at least {shown}"):
        load(tmp_path, **{variable: str(floor - 1)})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the HTTP side
def test_the_largest_message_fits_the_body_floor(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    harness: Harness,
    site: Site,
) -> None:
    """10,000 emoji (4 bytes each in UTF-8) as the chatbox sends them (JSON.stringify leaves
    them unescaped), with the longest client_id."""
    server = start_server(make_settings(max_body=str(BODY_AT_LEAST)))
    with httpx.Client(base_url=server.url, timeout=10) as http:
        token = open_session(http, site.website_id).json()["token"]
        body = "\U0001f600" * MAX_BODY_CHARS
        content = json.dumps(
            {"client_id": "c" * 64, "type": "text", "body": body}, ensure_ascii=False
        ).encode()
        assert len(content) > 40_000
        answer = http.post(
            "/api/widget/v1/session/messages",
            content=content,
            headers={
                "Authorization": f"Bearer {token}",
                "Origin": ORIGIN,
                "Content-Type": "application/json",
            },
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["message"]["body"] == body
