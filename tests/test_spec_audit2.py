"""Contracts checked from outside (second outside audit, branch audit2, 2026-12-07).

An outside audit against SPEC.md found these and left them (each test fails before its fix):
`HEAD` was answered 405 on every route but the few Starlette serves itself (`/widget.js`, the
`/api/v1` reads, the inbox's files, `/api/health`), while uptime monitors, CDNs and `curl -I`
ask with it. The OpenAPI document declared no schema for the visitor side's answers but the
message's (the chatbox load, the profile, consent, the export, ratings, the erasure, the
transcript). A chatbox load's `timezone` was stored as sent, whatever it was (`locale` was
checked already). A webhook to `localhost`, `metadata.google.internal`, `2130706433` or `[::1]`
was accepted and refused only at each delivery. These are transport contracts, the same on
every database: SQLite only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from causerie.domain.zones import iana_zones
from causerie.settings import Settings
from causerie.web import assets, inbox
from causerie.web.api_models.privacy import ErasedOut
from causerie.web.api_models.visitor import (
    ExportOut,
    OpenedSessionOut,
    RatingStateOut,
    VisitorSessionBody,
)
from causerie.web.schemas import SessionIn
from tests.conftest import ORIGIN, Harness, ServerThread, Site
from tests.test_errors import error_of
from tests.test_session_endpoint import PAGE, open_session, send


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


def test_every_zone_the_server_knows_has_the_shape_a_load_accepts() -> None:
    """The shape refused with a 422 never refuses a real zone (the longest is 32 characters)."""
    for zone in iana_zones():
        assert SessionIn.model_validate({"page": PAGE, "timezone": zone}).timezone == zone


# `localtime`: a file of the server's zone folder (its own zone), no IANA name (domain/zones.py).
@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "Etc/Unknown", "localtime"])
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


# -- the OpenAPI document: every visitor route's answer has a schema --------------------------


def test_every_visitor_routes_success_declares_a_schema(http: httpx.Client) -> None:
    """Only the message had one: a client generated from the document got untyped answers for
    the chatbox load, the profile, the export, consent, ratings and the erasure."""
    paths = http.get("/api/v1/openapi.json").json()["paths"]
    visitor = {path: operations for path, operations in paths.items() if "/widget/v1/" in path}
    assert len(visitor) >= 8
    missing = []
    for path, operations in visitor.items():
        for method, operation in operations.items():
            successes = {k: v for k, v in operation["responses"].items() if k.startswith("2")}
            assert successes, (method, path)
            for status, response in successes.items():
                content = response.get("content") or {}
                # FastAPI's default is `{}`: any value at all.
                if not content or not all(kind.get("schema") for kind in content.values()):
                    missing.append(f"{method.upper()} {path} {status}")
    assert missing == [], "\n".join(missing)


def test_the_visitor_sides_answers_fit_their_declared_schemas(
    http: httpx.Client, site: Site
) -> None:
    """The declared shapes are those sent (the models refuse any field they do not name)."""
    turned_on = http.patch(
        f"/api/v1/websites/{site.website_id}",
        json={"settings": {"consent_required": True}},
        headers=owner(site),
    )
    assert turned_on.status_code == 200, turned_on.text
    version = turned_on.json()["website"]["settings"]["consent_version"]
    opened = open_session(http, site.website_id)
    assert opened.status_code == 201
    OpenedSessionOut.model_validate(opened.json())
    token = opened.json()["token"]
    visitor = {"Authorization": f"Bearer {token}", "Origin": ORIGIN}
    consent = http.post(
        "/api/widget/v1/session/consent", json={"version": version}, headers=visitor
    )
    VisitorSessionBody.model_validate(consent.json())
    assert send(http, token).status_code == 201
    renewed = open_session(http, site.website_id, token=token)
    assert renewed.status_code == 200 and renewed.json()["messages"]
    OpenedSessionOut.model_validate(renewed.json())
    profile = http.patch(
        "/api/widget/v1/session/profile",
        json={"nickname": "Ana", "data": {"plan": "pro"}},
        headers=visitor,
    )
    assert profile.status_code == 200, profile.text
    VisitorSessionBody.model_validate(profile.json())
    exported = http.get("/api/widget/v1/session/export", headers=visitor)
    assert exported.status_code == 200 and exported.json()["sessions"][0]["conversation"]
    ExportOut.model_validate(exported.json())
    RatingStateOut.model_validate(http.get("/api/widget/v1/session/rating", headers=visitor).json())
    withdrawn = http.delete("/api/widget/v1/session/consent", headers=visitor)
    VisitorSessionBody.model_validate(withdrawn.json())
    erased = http.delete("/api/widget/v1/session", headers=visitor)
    assert erased.status_code == 200
    ErasedOut.model_validate(erased.json())


# -- webhook targets that are private without DNS ------------------------------------------------

PRIVATE_WITHOUT_DNS = [
    "https://localhost/hook",
    "https://LOCALHOST./hook",
    "https://hooks.localhost:8443/hook",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://printer.local/",
    "https://router.home.arpa/",
    "https://intranet/hook",
    "https://2130706433/",  # 127.0.0.1 in decimal
    "https://0x7f000001/",  # in hex
    "https://0177.0.0.1/",  # in octal
    "https://127.1/",
    "https://0xa9.254.169.254/",  # the metadata address, its first part in hex
    "https://99999999999/",  # a number, and no address
    "https://[::1]/",
    "https://[fe80::1%25eth0]/",
    "https://[fd00::1]/",
    "https://[::ffff:127.0.0.1]/",
]


def _hooks(site: Site) -> str:
    return f"/api/v1/websites/{site.website_id}/webhooks"


def test_a_webhook_to_a_host_private_without_dns_is_refused_at_creation(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    for url in PRIVATE_WITHOUT_DNS:
        response = http.post(
            _hooks(site), json={"url": url, "events": ["message.created"]}, headers=owner(site)
        )
        error = error_of(response, 422)
        assert error["code"] == "webhook_target_refused", (url, error)
        assert error["message"].startswith("url: "), url
    assert harness.scalar("SELECT count(*) FROM webhooks") == 0
    # A name only DNS can judge is taken, and checked at each delivery.
    kept = http.post(
        _hooks(site),
        json={"url": "https://hooks.example.com/causerie", "events": ["message.created"]},
        headers=owner(site),
    )
    assert kept.status_code == 201, kept.text
    webhook_id = kept.json()["webhook"]["id"]
    for url in ("https://localhost/hook", "https://0x7f000001/"):
        changed = http.patch(
            f"/api/v1/webhooks/{webhook_id}", json={"url": url}, headers=owner(site)
        )
        error = error_of(changed, 422)
        assert (error["code"], error["message"][:5]) == ("webhook_target_refused", "url: ")
    assert harness.scalar("SELECT url FROM webhooks") == "https://hooks.example.com/causerie"


def test_a_private_webhook_host_is_taken_when_the_server_allows_private_targets(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    site: Site,
) -> None:
    server = start_server(make_settings(webhook_allow_private="true"))
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for url in (
            "http://localhost:9000/hook",
            "https://metadata.google.internal/",
            "https://0x7f000001/",
        ):
            response = http.post(
                _hooks(site), json={"url": url, "events": ["message.created"]}, headers=owner(site)
            )
            assert response.status_code == 201, (url, response.text)
