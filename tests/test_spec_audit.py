"""Contracts of SPEC.md and docs/api.md checked from outside (branch audit, 2026-12-07).

An outside client, over a real server's sockets, found each of these answered otherwise: a
`/api/v1` body that was empty or not sent as JSON got 422 `body: Input should be a valid
dictionary...`; `"yes"`, `"5"` or `0` were taken for booleans and integers; an error about a
field named `body` named none; a session opened without `page.url`; unknown `before` and
`assignee` values listed nothing instead of 404; two `file` parts were Starlette's 400
`bad_request`; an agent socket whose `auth` frame names no website (SPEC.md's frame) was refused.
These are transport contracts, the same on every database: SQLite only.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from causerie.actions.operators import do_add_operator
from causerie.domain.models import Actor, Role
from tests.conftest import ORIGIN, Harness, ServerThread, Site
from tests.live import Live, visitor, ws_url
from tests.test_accounts import login
from tests.test_errors import error_of, snapshot
from tests.test_session_endpoint import PAGE, open_session, send


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'causerie.db'}"


def owner(site: Site) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.tokens['owner']}"}


def labels_path(site: Site) -> str:
    return f"/api/v1/websites/{site.website_id}/labels"


# -- /api/v1 bodies: empty, not JSON, not an object ----------------------------------------------


def test_an_empty_api_body_is_400_invalid_json(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    response = http.post(labels_path(site), headers=owner(site))
    assert error_of(response, 400)["code"] == "invalid_json"
    assert harness.scalar("SELECT count(*) FROM labels") == 0


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "text/json"]
)
def test_an_api_body_not_sent_as_json_is_415_saying_how(
    http: httpx.Client, site: Site, harness: Harness, content_type: str | None
) -> None:
    headers = owner(site) | ({"Content-Type": content_type} if content_type else {})
    response = http.post(
        labels_path(site), content=b'{"name": "VIP", "color": "#aabbcc"}', headers=headers
    )
    error = error_of(response, 415)
    assert error["code"] == "unsupported_media_type"
    assert "Content-Type: application/json" in error["message"]
    assert harness.scalar("SELECT count(*) FROM labels") == 0


def test_the_openapi_document_declares_the_415(http: httpx.Client) -> None:
    document = http.get("/api/v1/openapi.json").json()
    assert "UnsupportedMediaType" in document["components"]["responses"]
    answers = document["paths"]["/api/v1/websites/{website_id}/labels"]["post"]["responses"]
    assert answers["415"] == {"$ref": "#/components/responses/UnsupportedMediaType"}


def test_json_types_with_parameters_or_a_suffix_are_json(http: httpx.Client, site: Site) -> None:
    for number, content_type in enumerate(
        ["application/json; charset=utf-8", "application/merge-patch+json"]
    ):
        response = http.post(
            labels_path(site),
            content=f'{{"name": "L{number}", "color": "#aabbcc"}}'.encode(),
            headers=owner(site) | {"Content-Type": content_type},
        )
        assert response.status_code == 201, response.text


def test_api_json_that_is_not_an_object_is_422(http: httpx.Client, site: Site) -> None:
    error = error_of(http.post(labels_path(site), json=[1], headers=owner(site)), 422)
    assert error == {"code": "invalid_request", "message": "the body must be a JSON object"}


# -- wrong JSON types are refused, never coerced ------------------------------------------------


def test_strings_and_numbers_are_not_taken_for_booleans_or_integers(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    made = http.post(
        f"/api/v1/websites/{site.website_id}/webhooks",
        json={"url": "https://hooks.example/in", "events": ["message.created"]},
        headers=owner(site),
    )
    assert made.status_code == 201, made.text
    webhook = made.json()["webhook"]["id"]
    teams = f"/api/v1/websites/{site.website_id}/teams"
    refused = [
        ("PATCH", f"/api/v1/webhooks/{webhook}", {"enabled": "false"}, "enabled"),
        ("PATCH", f"/api/v1/webhooks/{webhook}", {"enabled": 0}, "enabled"),
        ("POST", teams, {"name": "Sales", "capacity": "5"}, "capacity"),
        ("POST", teams, {"name": "Sales", "capacity": 5.0}, "capacity"),
        ("POST", teams, {"name": "Sales", "capacity": True}, "capacity"),
        ("PATCH", "/api/v1/push/preferences", {"push_previews": "yes"}, "push_previews"),
        ("PATCH", "/api/v1/push/preferences", {"push_previews": 1}, "push_previews"),
    ]
    for method, path, body, field in refused:
        error = error_of(http.request(method, path, json=body, headers=owner(site)), 422)
        assert error["code"] == "invalid_request", (path, body)
        assert error["message"].startswith(f"{field}: "), (path, body, error)
    assert http.get(f"/api/v1/webhooks/{webhook}", headers=owner(site)).json()["webhook"]["enabled"]
    assert harness.scalar("SELECT count(*) FROM teams") == 0
    preferences = http.get("/api/v1/push/preferences", headers=owner(site)).json()
    assert preferences == {"push_previews": False}

    token = open_session(http, site.website_id).json()["token"]
    consent = http.post(
        "/api/widget/v1/session/consent",
        json={"version": "1"},
        headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN},
    )
    assert error_of(consent, 422)["message"].startswith("version: ")


def test_frames_with_wrong_types_get_invalid_frame_naming_the_field(
    server: ServerThread, http: httpx.Client, site: Site, harness: Harness
) -> None:
    token = open_session(http, site.website_id).json()["token"]
    live, _ = visitor(server.url, token)
    before = snapshot(harness)
    try:
        for frame, field in [
            ({"type": "typing", "on": "yes"}, "typing.on"),
            ({"type": "typing", "on": 1}, "typing.on"),
            ({"type": "message.send", "client_id": "c1", "body": 5}, "message.send.body"),
            ({"type": "message.send", "client_id": "c1"}, "message.send.body"),
            ({"on": True}, "type"),
            ({"type": 5}, "type"),
        ]:
            live.send(frame)
            error = live.expect("error")
            assert error["code"] == "invalid_frame", frame
            assert error["message"].startswith(f"{field}: "), (frame, error)
        assert live.barrier()[-1]["type"] == "pong"  # the socket stayed open
    finally:
        live.close()
    assert snapshot(harness) == before

    resumed = Live(ws_url(server.url, "/ws/visitor"))
    try:
        resumed.send({"type": "auth", "token": token, "after": "0"})
        error = resumed.expect("error")
        assert (error["code"], error["message"].split(":")[0]) == ("invalid_frame", "auth.after")
        with pytest.raises(ConnectionClosed) as closed:
            resumed.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001
    finally:
        resumed.close()


def test_a_note_flag_that_is_not_a_boolean_stores_nothing(
    server: ServerThread, http: httpx.Client, site: Site, harness: Harness
) -> None:
    token = open_session(http, site.website_id).json()["token"]
    conversation_id = send(http, token, "Hello").json()["message"]["conversation_id"]
    live = agent_socket(server, site.tokens["owner"], site.website_id)
    try:
        live.send(
            {
                "type": "message.send",
                "client_id": "n1",
                "body": "private?",
                "conversation_id": conversation_id,
                "note": "yes",
            }
        )
        error = live.expect("error", client_id="n1")
        assert error["code"] == "invalid_frame"
        assert error["message"].startswith("message.send.note: ")
    finally:
        live.close()
    assert harness.scalar("SELECT count(*) FROM messages") == 1


# -- the chatbox session, older messages, the inbox's list --------------------------------------


def test_a_session_needs_the_page_url_but_not_its_title_or_referrer(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    path = f"/api/widget/v1/websites/{site.website_id}/session"
    refused = http.post(path, json={"page": {"title": "Shoes"}}, headers={"Origin": ORIGIN})
    assert error_of(refused, 422) == {
        "code": "invalid_request",
        "message": "page.url: Field required",
    }
    assert harness.scalar("SELECT count(*) FROM sessions") == 0
    opened = http.post(path, json={"page": {"url": PAGE["url"]}}, headers={"Origin": ORIGIN})
    assert opened.status_code == 201, opened.text


def test_older_messages_before_an_unknown_id_are_404_even_before_any_message(
    http: httpx.Client, site: Site
) -> None:
    token = open_session(http, site.website_id).json()["token"]
    response = http.get(
        "/api/widget/v1/session/messages",
        params={"before": "nope"},
        headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN},
    )
    assert error_of(response, 404)["code"] == "message_not_found"


def test_listing_by_an_assignee_who_is_not_a_member_is_404(http: httpx.Client, site: Site) -> None:
    path = f"/api/v1/websites/{site.website_id}/conversations"
    for stranger in ("nope", site.operator_ids["other_owner"]):
        response = http.get(path, params={"assignee": stranger}, headers=owner(site))
        error = error_of(response, 404)
        assert error["code"] == "operator_not_found"
        assert error["message"].startswith("assignee: ")
    member = http.get(path, params={"assignee": site.operator_ids["agent"]}, headers=owner(site))
    assert member.status_code == 200, member.text


# -- uploads -------------------------------------------------------------------------------------


def test_two_file_parts_or_a_broken_multipart_body_are_refused_clearly(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    token = open_session(http, site.website_id).json()["token"]
    headers = {"Authorization": f"Bearer {token}", "Origin": ORIGIN}
    two = http.post(
        "/api/widget/v1/session/files",
        files=[
            ("file", ("a.txt", b"one", "text/plain")),
            ("file", ("b.txt", b"two", "text/plain")),
        ],
        headers=headers,
    )
    assert error_of(two, 422) == {
        "code": "too_many_files",
        "message": "file: send one file, as the one part 'file'",
    }
    broken = http.post(
        "/api/widget/v1/session/files",
        content=b"not multipart at all",
        headers=headers | {"Content-Type": "multipart/form-data"},
    )
    error = error_of(broken, 400)
    assert error["code"] == "invalid_multipart"
    assert error["message"].startswith("the body is not valid multipart/form-data")
    assert harness.scalar("SELECT count(*) FROM messages") == 0


# -- the agent socket's `auth` as SPEC.md writes it ----------------------------------------------


def agent_socket(server: ServerThread, token: str, website_id: str | None = None) -> Live:
    live = Live(ws_url(server.url, "/ws/agent"), origin=None)
    frame: dict[str, object] = {"type": "auth", "token": token}
    if website_id is not None:
        frame["website_id"] = website_id
    live.send(frame)
    return live


def test_an_agent_socket_without_website_id_follows_the_one_website_of_its_credential(
    server: ServerThread, http: httpx.Client, site: Site
) -> None:
    live = agent_socket(server, site.tokens["agent"])
    try:
        ready = live.expect("ready")
        assert ready["website_id"] == site.website_id
        token = open_session(http, site.website_id).json()["token"]
        sent = send(http, token, "Hello").json()["message"]
        assert live.expect("message.created")["message"]["id"] == sent["id"]
    finally:
        live.close()


def test_a_credential_of_several_websites_must_name_one(
    server: ServerThread, harness: Harness, site: Site
) -> None:
    cli = Actor.cli()
    email = "owner@shop.example"
    harness.run(
        do_add_operator(harness.rt, cli, email, website_id=site.other_website_id, role=Role.AGENT)
    )
    live = agent_socket(server, site.tokens["owner"])
    try:
        error = live.expect("error")
        assert error["code"] == "invalid_frame"
        assert error["message"].startswith("website_id: this credential reaches 2 websites")
        with pytest.raises(ConnectionClosed) as closed:
            live.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001
    finally:
        live.close()

    # A token limited to one of them, made in the inbox, follows that one.
    with httpx.Client(base_url=server.url, timeout=10) as inbox:
        csrf = login(inbox, site, "owner")
        made = inbox.post(
            "/api/v1/tokens",
            json={"name": "other", "scopes": ["read"], "website_ids": [site.other_website_id]},
            headers={"X-CSRF-Token": csrf},
        )
        assert made.status_code == 201, made.text
    live = agent_socket(server, made.json()["secret"])
    try:
        assert live.expect("ready")["website_id"] == site.other_website_id
    finally:
        live.close()


def test_a_visitor_may_name_their_own_conversation_in_message_send(
    server: ServerThread, http: httpx.Client, site: Site, harness: Harness
) -> None:
    token = open_session(http, site.website_id).json()["token"]
    first = send(http, token, "Hello").json()["message"]
    live, ready = visitor(server.url, token)
    try:
        assert ready["conversation_id"] == first["conversation_id"]
        live.send(
            {
                "type": "message.send",
                "client_id": "own",
                "body": "Named",
                "conversation_id": ready["conversation_id"],
            }
        )
        ack = live.expect("message.ack", client_id="own")
        assert ack["message"]["conversation_id"] == first["conversation_id"]
        live.send(
            {"type": "message.send", "client_id": "x", "body": "Elsewhere", "conversation_id": "x"}
        )
        error = live.expect("error", client_id="x")
        assert error["code"] == "invalid_frame"
    finally:
        live.close()
    assert harness.scalar("SELECT count(*) FROM messages") == 2
