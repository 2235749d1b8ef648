"""Contracts of SPEC.md checked by small client programs written from it (fourth outside audit,
branch audit4, 2026-12-07).

Clients written from SPEC.md alone, over a real server's sockets, found these (each test fails
before its fix): a `client_id` was unique per conversation, not per sender, so a message sent
with a `client_id` the other side (or another agent) had used was not stored and was acked with
*their* message: a reply lost, and a visitor could be answered with an agent's private note;
`CAUSERIE_PUBLIC_URL=https://chat.example:443` (or a user, a query, a port out of range) was
taken, and the inbox's requests, whose `Origin` never names the default port, were then refused
as cross-site; a read-only API token made the visitor see "NAME is typing"; a second `auth` frame
was told "agents do not send 'auth' frames"; an agent's `message.send` naming both a conversation
and another session was stored in the conversation without a word; a plain HTTP request to
`/ws/visitor` or `/ws/agent` was "404 Not Found". Transport contracts, the same on every
database: SQLite only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from causerie.actions.operators import do_create_api_token
from causerie.domain.models import Actor, Scope
from causerie.settings import Settings, SettingsError, load_settings
from causerie.web import sockets
from tests.conftest import ORIGIN, Harness, ServerThread, Site
from tests.live import Live, agent, visitor, ws_url
from tests.test_errors import error_of
from tests.test_session_endpoint import open_session, send


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'causerie.db'}"


def owner(site: Site) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.tokens['owner']}"}


def _conversation(http: httpx.Client, site: Site, client_id: str = "v1") -> tuple[str, str]:
    """A visitor's token and their conversation, started with `client_id`."""
    token = open_session(http, site.website_id).json()["token"]
    sent = send(http, token, "Hello", client_id=client_id)
    assert sent.status_code == 201, sent.text
    return token, sent.json()["message"]["conversation_id"]


# -- a client_id is the sender's -----------------------------------------------------------------


def test_a_client_id_the_visitor_used_does_not_drop_an_agents_reply(
    server: ServerThread, http: httpx.Client, site: Site, harness: Harness
) -> None:
    """The agent's reply was acked with the visitor's message, and not stored."""
    _, conversation_id = _conversation(http, site, client_id="1")
    live, _ = agent(server.url, site.tokens["agent"], site.website_id)
    try:
        live.send(
            {
                "type": "message.send",
                "client_id": "1",
                "body": "Hi, how can I help?",
                "conversation_id": conversation_id,
            }
        )
        error = live.expect("error", client_id="1")
        assert error["code"] == "client_id_taken"
        assert error["message"].startswith("client_id: ")
        assert "Hello" not in str(error)
    finally:
        live.close()
    over_http = http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"client_id": "1", "body": "Hi"},
        headers=owner(site),
    )
    assert error_of(over_http, 409)["code"] == "client_id_taken"
    assert harness.rows("SELECT author, body FROM messages") == [("visitor", "Hello")]


def test_a_visitor_reusing_a_notes_client_id_is_never_answered_with_the_note(
    server: ServerThread, http: httpx.Client, site: Site, harness: Harness
) -> None:
    """A private note came back to the visitor in their message's ack (and over HTTP)."""
    token, conversation_id = _conversation(http, site)
    note = http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"client_id": "n-1", "type": "note", "body": "VIP: refund without asking"},
        headers=owner(site),
    )
    assert note.status_code == 201, note.text
    answered = send(http, token, "Any news?", client_id="n-1")
    assert error_of(answered, 409)["code"] == "client_id_taken"
    assert "VIP" not in answered.text
    live, _ = visitor(server.url, token)
    try:
        live.send({"type": "message.send", "client_id": "n-1", "body": "Any news?"})
        error = live.expect("error", client_id="n-1")
        assert error["code"] == "client_id_taken" and "VIP" not in str(error)
        # Sent again with a new client_id, it is stored.
        live.send({"type": "message.send", "client_id": "n-2", "body": "Any news?"})
        assert live.expect("message.ack", client_id="n-2")["message"]["body"] == "Any news?"
    finally:
        live.close()
    assert harness.scalar("SELECT count(*) FROM messages WHERE client_id = 'n-1'") == 1


def test_two_agents_client_ids_are_their_own_and_each_one_is_idempotent(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    _, conversation_id = _conversation(http, site)
    path = f"/api/v1/conversations/{conversation_id}/messages"
    first = http.post(path, json={"client_id": "r1", "body": "From the owner"}, headers=owner(site))
    assert first.status_code == 201, first.text
    again = http.post(path, json={"client_id": "r1", "body": "From the owner"}, headers=owner(site))
    assert (again.status_code, again.json()) == (200, first.json())  # a retry: the same message
    other = http.post(
        path,
        json={"client_id": "r1", "body": "From the agent"},
        headers={"Authorization": f"Bearer {site.tokens['agent']}"},
    )
    assert error_of(other, 409)["code"] == "client_id_taken"
    assert harness.scalar("SELECT count(*) FROM messages WHERE author = 'operator'") == 1


def test_an_upload_with_another_senders_client_id_is_refused_and_keeps_no_bytes(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    token, conversation_id = _conversation(http, site, client_id="up-1")
    uploaded = http.post(
        f"/api/v1/conversations/{conversation_id}/files",
        files={"file": ("notes.txt", b"plain text", "text/plain")},
        data={"client_id": "up-1"},
        headers=owner(site),
    )
    assert error_of(uploaded, 409)["code"] == "client_id_taken"
    mine = http.post(
        "/api/widget/v1/session/files",
        files={"file": ("notes.txt", b"plain text", "text/plain")},
        data={"client_id": "up-1"},
        headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN},
    )
    # The visitor's own client_id: their upload was "sent before", as their text message.
    assert (mine.status_code, mine.json()["message"]["body"]) == (200, "Hello")
    assert harness.scalar("SELECT count(*) FROM files") == 0
    assert harness.scalar("SELECT count(*) FROM messages") == 1


# -- CAUSERIE_PUBLIC_URL: the origin browsers send -----------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://Chat.Shop.Example:443/", "https://chat.shop.example"),
        ("http://chat.shop.example:80", "http://chat.shop.example"),
        ("https://chat.shop.example:8443/chat/", "https://chat.shop.example:8443/chat"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_the_public_url_is_kept_as_browsers_name_its_origin(
    tmp_path: Path, given: str, kept: str
) -> None:
    env = {"CAUSERIE_DATA_DIR": str(tmp_path), "CAUSERIE_PUBLIC_URL": given}
    assert load_settings(environ=env).public_url == kept


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("https://chat.shop.example:99999", "the port must be a number from 1 to 65535"),
        ("https://chat.shop.example:https", "the port must be a number from 1 to 65535"),
        ("https://admin:secret@chat.shop.example", "no user or password in this address"),
        ("https://chat.shop.example/?lang=fr", "no query (?...) or fragment (#...)"),
        ("https://chat.shop.example/#/app", "no query (?...) or fragment (#...)"),
        ("https://chat.shop.example/my chat", "no spaces in this address"),
    ],
)
def test_a_public_url_links_cannot_be_built_on_is_refused_at_start(
    tmp_path: Path, given: str, reason: str
) -> None:
    env = {"CAUSERIE_DATA_DIR": str(tmp_path), "CAUSERIE_PUBLIC_URL": given}
    with pytest.raises(SettingsError) as caught:
        load_settings(environ=env)
    assert str(caught.value).startswith("CAUSERIE_PUBLIC_URL = ")
    assert reason in str(caught.value)


def test_the_inbox_works_behind_a_public_url_that_names_the_default_port(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    site: Site,
) -> None:
    """Browsers send `Origin: https://chat.shop.example`: the server compared it with
    `https://chat.shop.example:443` and refused every change the inbox asked for, and its socket
    ignored the login cookie."""
    server = start_server(make_settings(public_url="https://chat.shop.example:443"))
    origin = {"Origin": "https://chat.shop.example"}
    with httpx.Client(base_url=server.url, timeout=10) as inbox:
        logged_in = inbox.post(
            "/api/v1/auth/login",
            json={"email": "owner@shop.example", "password": site.passwords["owner"]},
            headers=origin,
        )
        assert logged_in.status_code == 200, logged_in.text
        cookie = logged_in.cookies["causerie_login"]  # Secure: sent by hand over http
        csrf = logged_in.json()["csrf_token"]
        made = inbox.post(
            f"/api/v1/websites/{site.website_id}/labels",
            json={"name": "VIP", "color": "#aabbcc"},
            headers=origin | {"X-CSRF-Token": csrf, "Cookie": f"causerie_login={cookie}"},
        )
        assert made.status_code == 201, made.text
    live = Live(
        ws_url(server.url, "/ws/agent"),
        origin="https://chat.shop.example",
        headers={"Cookie": f"causerie_login={cookie}"},
    )
    try:
        live.send({"type": "auth", "website_id": site.website_id})
        assert live.expect("ready")["website_id"] == site.website_id
    finally:
        live.close()


# -- the agent socket ----------------------------------------------------------------------------


def test_a_read_only_token_cannot_show_the_visitor_that_it_types(
    server: ServerThread, http: httpx.Client, site: Site, harness: Harness
) -> None:
    token, conversation_id = _conversation(http, site)
    _, secret = harness.run(
        do_create_api_token(
            harness.rt, Actor.cli(), "agent@shop.example", name="r", scopes=frozenset({Scope.READ})
        )
    )
    watcher, _ = visitor(server.url, token)
    reader, _ = agent(server.url, secret, site.website_id)
    writer, _ = agent(server.url, site.tokens["agent"], site.website_id)
    try:
        reader.send({"type": "typing", "on": True, "conversation_id": conversation_id})
        error = reader.expect("error")
        assert (error["code"], error["message"]) == (
            "insufficient_scope",
            "this token lacks the 'write' scope",
        )
        writer.send({"type": "typing", "on": True, "conversation_id": conversation_id})
        typing = watcher.expect("typing")
        assert typing["operator"]["name"] == "agent" and typing["on"] is True
        # Nothing came before the writer's: the reader's typing was never forwarded.
        assert [f for f in watcher.seen if f["type"] == "typing"] == [typing]
    finally:
        for live in (watcher, reader, writer):
            live.close()


def test_a_second_auth_frame_is_told_the_socket_is_authenticated_already(
    server: ServerThread, http: httpx.Client, site: Site
) -> None:
    token = open_session(http, site.website_id).json()["token"]
    visitor_socket, _ = visitor(server.url, token)
    agent_socket, _ = agent(server.url, site.tokens["agent"], site.website_id)
    try:
        for live, frame in (
            (visitor_socket, {"type": "auth", "token": token}),
            (agent_socket, {"type": "auth", "token": site.tokens["owner"]}),
        ):
            live.send(frame)
            error = live.expect("error")
            assert error["code"] == "invalid_frame"
            assert error["message"].startswith("auth: this socket is authenticated already")
            assert live.barrier()[-1]["type"] == "pong"  # still open
    finally:
        visitor_socket.close()
        agent_socket.close()


def test_an_agent_naming_a_conversation_and_a_session_is_refused(
    server: ServerThread, http: httpx.Client, site: Site, harness: Harness
) -> None:
    """Both named, the session was ignored: a reply meant for one visitor went to another."""
    _, conversation_id = _conversation(http, site)
    other = open_session(http, site.website_id).json()["session"]["id"]
    live, _ = agent(server.url, site.tokens["agent"], site.website_id)
    try:
        live.send(
            {
                "type": "message.send",
                "client_id": "both",
                "body": "Your order shipped",
                "conversation_id": conversation_id,
                "session_id": other,
            }
        )
        error = live.expect("error", client_id="both")
        assert error == {
            "type": "error",
            "code": "invalid_frame",
            "message": "message.send: name conversation_id or session_id, not both",
            "client_id": "both",
        }
    finally:
        live.close()
    assert harness.scalar("SELECT count(*) FROM messages WHERE author = 'operator'") == 0


# -- the sockets' paths over plain HTTP ----------------------------------------------------------


@pytest.mark.parametrize("path", ["/ws/visitor", "/ws/agent"])
def test_a_socket_path_asked_without_the_upgrade_says_it_is_a_websocket(
    http: httpx.Client, path: str
) -> None:
    response = http.get(path)
    error = error_of(response, 426)
    assert error["code"] == "upgrade_required"
    assert error["message"].startswith(f"{path} is a WebSocket endpoint")
    assert response.headers["upgrade"] == "websocket"
    head = http.head(path)
    assert head.status_code == 426 and head.content == b""
    assert http.post(path).status_code == 405


def test_a_refused_value_in_a_frame_is_named_with_its_frame_as_any_other_field(
    server: ServerThread, http: httpx.Client, site: Site, harness: Harness
) -> None:
    """`body: text must not contain ...`, `after: integers are limited ...`: the other errors
    say `message.send.body: ...`, `auth.after: ...` (docs/realtime.md)."""
    token = open_session(http, site.website_id).json()["token"]
    live, _ = visitor(server.url, token)
    try:
        live.send({"type": "message.send", "client_id": "nul", "body": "a\u0000b"})
        error = live.expect("error", client_id="nul")
        assert (error["code"], error["message"]) == (
            "invalid_frame",
            "message.send.body: text must not contain the NUL character",
        )
    finally:
        live.close()
    resumed = Live(ws_url(server.url, "/ws/visitor"))
    try:
        resumed.send({"type": "auth", "token": token, "after": 2**60})
        error = resumed.expect("error")
        assert error["message"].startswith("auth.after: integers are limited to ")
    finally:
        resumed.close()
    assert harness.scalar("SELECT count(*) FROM messages") == 0


@pytest.mark.parametrize("domain", ["-bad-", "reply.shop-", "reply.-shop.example"])
def test_a_mail_domain_with_a_label_that_starts_or_ends_with_a_hyphen_is_refused(
    tmp_path: Path, domain: str
) -> None:
    """The last label took any hyphen: `-bad-` was a mail domain, and every Reply-To with it."""
    env = {"CAUSERIE_DATA_DIR": str(tmp_path), "CAUSERIE_MAIL_DOMAIN": domain}
    with pytest.raises(SettingsError) as caught:
        load_settings(environ=env)
    assert str(caught.value).startswith("CAUSERIE_MAIL_DOMAIN = ")
    env["CAUSERIE_MAIL_DOMAIN"] = "reply.shop-example.org"
    assert load_settings(environ=env).mail_domain == "reply.shop-example.org"


# -- the visitor side's 413 is readable by the page ----------------------------------------------


def test_a_body_too_large_for_the_chatbox_carries_the_cors_grant(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    """The 413 was answered outside the CORS layer: the page saw a network error, not why."""
    token = open_session(http, site.website_id).json()["token"]
    body = '{"client_id": "big", "type": "text", "body": "' + "a" * 70_000 + '"}'
    for content in (body.encode(), iter([body.encode()])):  # declared, then chunked
        refused = http.post(
            "/api/widget/v1/session/messages",
            content=content,
            headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN},
        )
        assert error_of(refused, 413)["code"] == "body_too_large"
        assert refused.headers["access-control-allow-origin"] == ORIGIN
        assert "Retry-After" in refused.headers["access-control-expose-headers"]
    stranger = http.post(
        "/api/widget/v1/session/messages",
        content=body.encode(),
        headers={"Authorization": f"Bearer {token}", "Origin": "https://evil.example"},
    )
    assert stranger.status_code == 413
    assert "access-control-allow-origin" not in stranger.headers
    assert harness.scalar("SELECT count(*) FROM messages") == 0


def test_a_socket_that_sends_no_auth_in_time_is_told_why_before_4001(
    server: ServerThread, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/realtime.md: "otherwise, or with a bad credential, the server sends `error` and
    closes with code 4001"; a silent socket got the close alone."""
    monkeypatch.setattr(sockets, "AUTH_TIMEOUT", 0.2)  # the server runs in this process
    live = Live(ws_url(server.url, "/ws/visitor"))
    try:
        error = live.expect("error")
        assert error == {
            "type": "error",
            "code": "unauthenticated",
            "message": "the first frame must be auth, within 0.2 seconds",
        }
        with pytest.raises(ConnectionClosed) as closed:
            live.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001
    finally:
        live.close()


def test_an_unknown_conversation_is_named_alike_by_every_frame_and_route(
    server: ServerThread, http: httpx.Client, site: Site
) -> None:
    """`message.send` said "no conversation 'x'"; `typing`, `read` and `POST .../read` said "no
    such conversation", naming nothing."""
    live, _ = agent(server.url, site.tokens["agent"], site.website_id)
    try:
        for frame in (
            {"type": "typing", "on": True, "conversation_id": "nope"},
            {"type": "read", "up_to": "m1", "conversation_id": "nope"},
            {"type": "message.send", "client_id": "c", "body": "x", "conversation_id": "nope"},
        ):
            live.send(frame)
            error = live.expect("error")
            assert (error["code"], error["message"]) == (
                "conversation_not_found",
                "no conversation 'nope'",
            ), frame
    finally:
        live.close()
    response = http.post(
        "/api/v1/conversations/nope/read", json={"up_to": "m1"}, headers=owner(site)
    )
    assert error_of(response, 404) == {
        "code": "conversation_not_found",
        "message": "no conversation 'nope'",
    }


def test_a_path_or_method_the_server_does_not_take_is_named_in_the_error(
    http: httpx.Client, site: Site
) -> None:
    """ "Not Found" and "Method Not Allowed" (Starlette's words) named neither."""
    assert error_of(http.get("/api/v1/website", headers=owner(site)), 404) == {
        "code": "not_found",
        "message": "nothing at /api/v1/website (the API's paths: /api/v1/openapi.json)",
    }
    assert error_of(http.get("/favicon.png"), 404)["message"] == "nothing at /favicon.png"
    assert error_of(http.put("/api/v1/websites", headers=owner(site)), 405) == {
        "code": "method_not_allowed",
        "message": "PUT is not taken at /api/v1/websites; it takes GET, HEAD, POST",
    }


def test_a_read_only_socket_never_makes_the_website_online(
    server: ServerThread, http: httpx.Client, site: Site, harness: Harness
) -> None:
    """A dashboard following the stream with a read-only token showed visitors "online" (and
    counted its operator present for assignment and mail), though it cannot answer."""
    _, secret = harness.run(
        do_create_api_token(
            harness.rt, Actor.cli(), "agent@shop.example", name="r", scopes=frozenset({Scope.READ})
        )
    )
    token = open_session(http, site.website_id).json()["token"]
    watcher, ready = visitor(server.url, token)
    assert ready["availability"]["online"] is False
    reader, reader_ready = agent(server.url, secret, site.website_id)
    try:
        assert reader_ready["availability"]["online"] is False
        reader.send({"type": "availability", "status": "online"})
        error = reader.expect("error")
        assert error["code"] == "insufficient_scope"
        assert watcher.barrier() == [{"type": "pong"}]  # no presence came
        assert watcher.seen[-1] == {"type": "pong"}
        writer, _ = agent(server.url, site.tokens["agent"], site.website_id)
        try:
            assert watcher.expect("presence")["online"] is True
        finally:
            writer.close()
        assert watcher.expect("presence")["online"] is False
    finally:
        reader.close()
        watcher.close()
