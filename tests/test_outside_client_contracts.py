"""Contracts of SPEC.md checked from outside, as a client program uses them (second audit).

An outside client, over a real server's sockets, found these answered otherwise than SPEC.md and
docs/realtime.md say (each test fails before its fix): a visitor's `message.send` over the
session's message rate got `rate_limited` without the `client_id` of the frame to send again,
so the chatbox's socket could not tell which message to resend and left it waiting. (An agent's
refused `message.send` named its `client_id` already; it now takes the same path, kept here.)
The OpenAPI document declared the visitor side's creating routes (the chatbox load, a message)
as answering 200 only, with no schema for the message, while they answer 201 for what they
create; and it declared no credential (no security scheme). A profile value over its limit was
refused with a false limit or a false reason (the schema's and the domain's limits differed).
A visitor's socket learnt that its session was deleted only at its next `message.send`. A
refused CORS preflight is in tests/test_errors.py.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from causerie.actions.operators import do_create_api_token
from causerie.domain.models import Actor, Scope
from causerie.settings import Settings
from tests.conftest import ORIGIN, Harness, ServerThread, Site
from tests.live import agent, visitor
from tests.test_errors import error_of, snapshot
from tests.test_session_endpoint import open_session, send


def test_a_message_over_the_sessions_message_rate_is_refused_naming_its_client_id(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    site: Site,
    harness: Harness,
) -> None:
    # 3 a minute, in bursts of 20 seconds' worth: one message, then the next is over the rate.
    server = start_server(make_settings(message_rate="3/m"))
    with httpx.Client(base_url=server.url, timeout=10) as http:
        token = open_session(http, site.website_id).json()["token"]
    live, _ = visitor(server.url, token)
    try:
        live.send({"type": "message.send", "client_id": "first", "body": "hello"})
        live.expect("message.ack", client_id="first")
        live.send({"type": "message.send", "client_id": "second", "body": "again"})
        error = live.expect("error")
        assert error["code"] == "rate_limited"
        assert error["client_id"] == "second"  # the chatbox's socket resends it by this id
        assert error["retry_after"] >= 1
        assert live.barrier()[-1]["type"] == "pong"  # the socket stayed open
    finally:
        live.close()
    assert harness.scalar("SELECT count(*) FROM messages WHERE client_id = 'second'") == 0


def test_an_agents_refused_message_send_names_its_client_id(
    server: ServerThread, http: httpx.Client, site: Site, harness: Harness
) -> None:
    _, reader = harness.run(
        do_create_api_token(
            harness.rt, Actor.cli(), "agent@shop.example", name="r", scopes=frozenset({Scope.READ})
        )
    )
    session_id = open_session(http, site.website_id).json()["session"]["id"]
    live, _ = agent(server.url, reader, site.website_id)
    try:
        live.send(
            {"type": "message.send", "client_id": "a1", "body": "hi", "session_id": session_id}
        )
        error = live.expect("error")
        assert (error["code"], error["client_id"]) == ("insufficient_scope", "a1")
        assert live.barrier()[-1]["type"] == "pong"
    finally:
        live.close()
    assert harness.scalar("SELECT count(*) FROM messages") == 0


def test_the_openapi_document_declares_the_statuses_the_visitor_side_answers(
    http: httpx.Client, site: Site
) -> None:
    """A client generated from the document expects what the routes answer: a new session and a
    new message are 201, a renewed session and a repeated client_id 200 (it declared 200 only)."""
    paths = http.get("/api/v1/openapi.json").json()["paths"]
    opened = open_session(http, site.website_id)
    token = opened.json()["token"]
    renewed = open_session(http, site.website_id, token=token)
    sent = send(http, token, client_id="c1")
    again = send(http, token, client_id="c1")
    assert [r.status_code for r in (opened, renewed, sent, again)] == [201, 200, 201, 200]
    for path in ("/api/widget/v1/websites/{website_id}/session", "/api/widget/v1/session/messages"):
        declared = paths[path]["post"]["responses"]
        assert {"200", "201"} <= declared.keys(), path
    message = paths["/api/widget/v1/session/messages"]["post"]["responses"]["201"]
    assert message["content"]["application/json"]["schema"]["$ref"].endswith("/MessageBody")


def test_a_profile_value_over_its_limit_is_refused_with_the_true_limit(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    """A nickname of 150 characters was told "at most 100", one of 250 "at most 200"; a phone
    number of 35 digits and spaces was told it held characters other than digits and spaces."""
    token = open_session(http, site.website_id).json()["token"]
    headers = {"Authorization": f"Bearer {token}", "Origin": ORIGIN}

    def refused(**profile: str) -> tuple[str, str]:
        response = http.patch("/api/widget/v1/session/profile", json=profile, headers=headers)
        error = error_of(response, 422)
        return error["code"], error["message"]

    before = snapshot(harness)
    for length in (101, 150, 250):
        assert refused(nickname="n" * length) == (
            "invalid_nickname",
            "nickname: at most 100 characters",
        )
    for phone in ("+33 6 12 34 56 78 90 12 34 56 78 90", "12"):
        assert refused(phone=phone) == ("invalid_phone", "phone: 3 to 30 characters")
    assert refused(phone="call me") == ("invalid_phone", "phone: digits, spaces and + ( ) . - only")
    assert snapshot(harness) == before
    kept = http.patch(
        "/api/widget/v1/session/profile",
        json={"nickname": "n" * 100, "phone": "+33 6 12 34 56 78 90 12 34 56"},
        headers=headers,
    )
    assert kept.status_code == 200, kept.text


def test_the_openapi_document_declares_how_each_side_authenticates(http: httpx.Client) -> None:
    """It declared no security scheme: a client generated from it could not authenticate."""
    document = http.get("/api/v1/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert (schemes["apiToken"]["type"], schemes["apiToken"]["scheme"]) == ("http", "bearer")
    cookie = schemes["loginCookie"]
    assert (cookie["type"], cookie["in"], cookie["name"]) == ("apiKey", "cookie", "causerie_login")
    assert (schemes["sessionToken"]["type"], schemes["sessionToken"]["scheme"]) == (
        "http",
        "bearer",
    )
    paths = document["paths"]
    agent = [{"apiToken": []}, {"loginCookie": []}]
    assert paths["/api/v1/websites/{website_id}/conversations"]["get"]["security"] == agent
    assert paths["/api/v1/auth/login"]["post"]["security"] == []  # public
    assert paths["/api/widget/v1/session/messages"]["post"]["security"] == [{"sessionToken": []}]
    assert paths["/api/widget/v1/websites/{website_id}/session"]["post"]["security"] == []
    for path, operations in paths.items():
        for method, operation in operations.items():
            if path.startswith(("/api/v1/", "/api/widget/v1/")):
                assert "security" in operation, (method, path)


@pytest.mark.parametrize("how", ["visitor_erases", "website_deleted"])
def test_a_visitor_socket_is_closed_when_its_session_goes(
    server: ServerThread, http: httpx.Client, site: Site, how: str
) -> None:
    """The visitor's own erasure (P9, from another tab) or the website's deletion ends the
    session's sockets at once: `invalid_session`, then 4004 (they waited for a message.send)."""
    token = open_session(http, site.website_id).json()["token"]
    assert send(http, token).status_code == 201
    live, _ = visitor(server.url, token)
    try:
        if how == "visitor_erases":
            gone = http.delete(
                "/api/widget/v1/session",
                headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN},
            )
        else:
            gone = http.delete(f"/api/v1/websites/{site.website_id}", headers=_owner(site))
        assert gone.status_code == 200, gone.text
        assert live.expect("error")["code"] == "invalid_session"
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                live.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4004
    finally:
        live.close()


def _owner(site: Site) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.tokens['owner']}"}
