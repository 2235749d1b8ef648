"""`POST /api/widget/v1/websites/{id}/session` over a real socket, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta

import httpx

from causerie.actions.reads import do_mark_read
from causerie.clock import ManualClock
from causerie.domain.models import Author
from tests.conftest import ORIGIN, OTHER_ORIGIN, Harness, Site
from tests.support import sqlite_files

PAGE = {"url": "https://shop.example/shoes", "title": "Shoes", "referrer": ""}


def open_session(http: httpx.Client, website_id: str, **body: object) -> httpx.Response:
    return http.post(
        f"/api/widget/v1/websites/{website_id}/session",
        json={"page": PAGE, **body},
        headers={"Origin": ORIGIN},
    )


def send(
    http: httpx.Client, token: str, body: str = "Hello", client_id: str = "c1"
) -> httpx.Response:
    return http.post(
        "/api/widget/v1/session/messages",
        json={"client_id": client_id, "type": "text", "body": body},
        headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN},
    )


def test_p15_first_load_creates_a_temporary_session(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    response = open_session(http, site.website_id, locale="fr-FR", timezone="Europe/Paris")
    assert response.status_code == 201
    data = response.json()
    assert data["session"]["state"] == "temporary"
    assert data["messages"] == []
    assert data["website"]["id"] == site.website_id
    assert data["website"]["settings"]["position"] == "right"
    assert data["website"]["availability"] == {"online": False}
    assert data["website"]["mail"] is False  # no CAUSERIE_SMTP_URL: no transcript offered
    assert response.headers["access-control-allow-origin"] == ORIGIN
    row = harness.rows("SELECT state, page_url, locale, timezone, ip FROM sessions")
    assert row == [("temporary", PAGE["url"], "fr-FR", "Europe/Paris", "127.0.0.1")]


def test_p16_token_is_256_random_bits_and_only_its_hash_is_stored(
    http: httpx.Client, site: Site, harness: Harness, settings: object
) -> None:
    token = open_session(http, site.website_id).json()["token"]
    assert len(base64.urlsafe_b64decode(token + "=")) == 32
    stored = harness.scalar("SELECT token_hash FROM sessions")
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    assert harness.scalar("SELECT count(*) FROM sessions WHERE token_hash = :t", t=token) == 0


def test_p16_sqlite_file_never_holds_the_raw_token(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    token = open_session(http, site.website_id).json()["token"]
    if not harness.settings.is_sqlite:
        return
    for content in sqlite_files(harness.settings.database_url).values():
        assert token.encode() not in content


def test_p13_valid_token_renews_the_same_session_with_its_messages(
    http: httpx.Client, site: Site, clock: ManualClock, harness: Harness
) -> None:
    first = open_session(http, site.website_id).json()
    assert send(http, first["token"], "Bonjour").status_code == 201
    clock.advance(timedelta(days=3))
    again = open_session(http, site.website_id, token=first["token"])
    assert again.status_code == 200
    data = again.json()
    assert data["token"] == first["token"]
    assert data["session"]["id"] == first["session"]["id"]
    assert data["session"]["state"] == "permanent"
    assert [m["body"] for m in data["messages"]] == ["Bonjour"]
    assert harness.scalar("SELECT count(*) FROM sessions") == 1


def test_the_load_carries_both_read_marks_so_seen_survives_a_reload(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    first = open_session(http, site.website_id).json()
    assert first["read_up_to"] == {"visitor": None, "operator": None}  # no conversation yet
    message = send(http, first["token"], "Bonjour").json()["message"]
    marked = harness.run(
        do_mark_read(
            harness.rt,
            conversation_id=message["conversation_id"],
            reader=Author.OPERATOR,
            up_to=message["id"],
        )
    )
    assert marked
    again = open_session(http, site.website_id, token=first["token"]).json()
    assert again["read_up_to"] == {"visitor": None, "operator": message["id"]}


def test_p14_response_carries_the_cookie_lifetime_of_the_settings(
    make_settings: object, start_server: object, harness: Harness, site: Site
) -> None:
    settings = make_settings(cookie_max_age="7d")  # type: ignore[operator]
    server = start_server(settings)  # type: ignore[operator]
    with httpx.Client(base_url=server.url) as http:
        data = open_session(http, site.website_id).json()
    assert data["cookie"] == {"name": f"causerie_session_{site.website_id}", "max_age": 7 * 86400}


def test_unknown_token_gets_a_new_temporary_session(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    first = open_session(http, site.website_id).json()
    response = open_session(http, site.website_id, token="not-a-real-token")
    assert response.status_code == 201
    assert response.json()["session"]["id"] != first["session"]["id"]
    assert harness.scalar("SELECT count(*) FROM sessions") == 2


def test_token_of_another_website_is_not_accepted(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    token = open_session(http, site.website_id).json()["token"]
    response = http.post(
        f"/api/widget/v1/websites/{site.other_website_id}/session",
        json={"page": PAGE, "token": token},
        headers={"Origin": OTHER_ORIGIN},
    )
    assert response.status_code == 201
    assert response.json()["token"] != token


def test_p15_expired_token_gets_a_new_session_and_the_old_one_is_destroyed(
    http: httpx.Client, site: Site, clock: ManualClock, harness: Harness
) -> None:
    first = open_session(http, site.website_id).json()
    clock.advance(timedelta(minutes=30))
    response = open_session(http, site.website_id, token=first["token"])
    assert response.status_code == 201
    ids = [r[0] for r in harness.rows("SELECT id FROM sessions")]
    assert ids == [response.json()["session"]["id"]]


def test_renewal_within_a_minute_writes_nothing_and_later_ones_touch_last_access(
    http: httpx.Client, site: Site, clock: ManualClock, harness: Harness
) -> None:
    token = open_session(http, site.website_id).json()["token"]
    created = harness.scalar("SELECT last_access_at FROM sessions")
    clock.advance(timedelta(seconds=50))
    open_session(http, site.website_id, token=token)
    assert harness.scalar("SELECT last_access_at FROM sessions") == created
    clock.advance(timedelta(seconds=20))
    open_session(http, site.website_id, token=token)
    assert harness.scalar("SELECT last_access_at FROM sessions") != created


def test_a_new_page_is_recorded_on_renewal(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    token = open_session(http, site.website_id).json()["token"]
    http.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"token": token, "page": {"url": "https://shop.example/cart", "title": "Cart"}},
        headers={"Origin": ORIGIN},
    )
    assert harness.rows("SELECT page_url, page_title FROM sessions") == [
        ("https://shop.example/cart", "Cart")
    ]


def test_a_change_to_the_website_shows_at_the_next_load(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    token = open_session(http, site.website_id).json()["token"]
    as_json = ":s" if harness.settings.is_sqlite else "CAST(:s AS JSONB)"
    harness.execute(
        f"UPDATE websites SET name = :n, settings = {as_json}",
        n="Renamed",
        s=json.dumps({"position": "left", "greeting": "Bonjour"}),
    )
    website = open_session(http, site.website_id, token=token).json()["website"]
    assert website["name"] == "Renamed"
    assert website["settings"]["position"] == "left"
    assert website["settings"]["greeting"] == "Bonjour"
    assert website["settings"]["color"] == "#3b5bdb"  # the default, still
    harness.execute(f"UPDATE websites SET settings = {as_json}", s=json.dumps({}))
    website = open_session(http, site.website_id, token=token).json()["website"]
    assert website["settings"]["position"] == "right"
