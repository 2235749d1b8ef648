"""Contracts checked from outside (second outside audit, branch audit2, 2026-12-07).

An outside audit against SPEC.md found these and left them (each test fails before its fix):
`HEAD` was answered 405 on every route but the few Starlette serves itself (`/widget.js`, the
`/api/v1` reads, the inbox's files, `/api/health`), while uptime monitors, CDNs and `curl -I`
ask with it. A chatbox load's `timezone` was stored as sent, whatever it was (`locale` was
checked already). These are transport contracts, the same on every database: SQLite only.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from causerie.web import assets, inbox
from tests.conftest import ORIGIN, Harness, Site
from tests.test_errors import error_of
from tests.test_session_endpoint import open_session


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'causerie.db'}"


def owner(site: Site) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.tokens['owner']}"}


# -- HEAD answers as GET, without the body -------------------------------------------------------

_PLAIN = {"Accept-Encoding": "identity"}  # the body's length is then the bytes' length


def _head_paths(site: Site) -> list[tuple[str, dict[str, str]]]:
    return [
        ("/widget.js", {}),
        (f"/widget/{assets.VERSION}/chatbox.js", {}),
        (f"/widget/websites/{site.website_id}/look", {}),
        ("/app", {}),
        (f"/app/static/{inbox.VERSION}/{inbox.FILE_NAMES[0]}", {}),
        ("/api/health", {}),
        ("/api/v1/websites", owner(site)),
        (f"/api/v1/websites/{site.website_id}/sessions", owner(site)),
        ("/api/v1/websites", {}),  # refused: HEAD is refused the same way
        ("/widget/nope/none.js", {}),  # an unknown file: 404 both ways
    ]


def test_head_answers_every_get_route_and_file_like_get_without_the_body(
    http: httpx.Client, site: Site
) -> None:
    for path, headers in _head_paths(site):
        got = http.get(path, headers=_PLAIN | headers)
        head = http.head(path, headers=_PLAIN | headers)
        assert head.status_code == got.status_code, (path, head.status_code, head.text)
        assert head.content == b""
        assert head.headers["content-length"] == str(len(got.content)), path
        for name in ("content-type", "cache-control", "etag", "x-content-type-options", "allow"):
            assert head.headers.get(name) == got.headers.get(name), (path, name)


def test_head_answers_a_visitors_read_like_get(http: httpx.Client, site: Site) -> None:
    token = open_session(http, site.website_id).json()["token"]
    headers = {"Authorization": f"Bearer {token}", "Origin": ORIGIN} | _PLAIN
    got = http.get("/api/widget/v1/session/messages", headers=headers)
    head = http.head("/api/widget/v1/session/messages", headers=headers)
    assert (got.status_code, head.status_code) == (200, 200)
    assert head.headers["content-length"] == str(len(got.content))
    assert head.headers["access-control-allow-origin"] == ORIGIN


def test_head_is_refused_where_get_is_not_taken(http: httpx.Client, site: Site) -> None:
    response = http.head(f"/api/widget/v1/websites/{site.website_id}/session")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.content == b""


def test_a_405_names_head_beside_get(http: httpx.Client) -> None:
    response = http.put("/api/health")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


# -- the chatbox load's time zone and locale -----------------------------------------------------


def _stored_zone(harness: Harness) -> list[object]:
    return [row[0] for row in harness.rows("SELECT timezone FROM sessions ORDER BY created_at")]


@pytest.mark.parametrize(
    "zone", ["Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+5", "UTC"]
)
def test_a_known_time_zone_is_stored(
    http: httpx.Client, site: Site, harness: Harness, zone: str
) -> None:
    assert open_session(http, site.website_id, timezone=zone).status_code == 201
    assert _stored_zone(harness) == [zone]


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "Etc/Unknown"])
def test_a_well_formed_zone_the_server_does_not_know_opens_the_session_without_a_zone(
    http: httpx.Client, site: Site, harness: Harness, zone: str
) -> None:
    # A browser newer than the server's tzdata names zones it lacks; its chatbox must open.
    response = open_session(http, site.website_id, timezone=zone)
    assert response.status_code == 201
    assert _stored_zone(harness) == [None]


@pytest.mark.parametrize(
    "zone",
    [
        "Europe/Paris; DROP TABLE sessions",
        "../../etc/passwd",
        "<script>",
        "",
        "Europe//Paris",
        "A/" * 40 + "B",
        "Z" * 65,
    ],
)
def test_a_time_zone_of_the_wrong_shape_is_refused_naming_the_field(
    http: httpx.Client, site: Site, harness: Harness, zone: str
) -> None:
    error = error_of(open_session(http, site.website_id, timezone=zone), 422)
    assert (error["code"], error["message"].split(":")[0]) == ("invalid_request", "timezone")
    assert "IANA time zone" in error["message"]
    assert harness.scalar("SELECT count(*) FROM sessions") == 0


@pytest.mark.parametrize("locale", ["fr_FR!", "x" * 36, "", "fr--FR", "<b>"])
def test_a_locale_of_the_wrong_shape_is_refused_naming_the_field(
    http: httpx.Client, site: Site, harness: Harness, locale: str
) -> None:
    error = error_of(open_session(http, site.website_id, locale=locale), 422)
    assert (error["code"], error["message"].split(":")[0]) == ("invalid_request", "locale")
    assert harness.scalar("SELECT count(*) FROM sessions") == 0
