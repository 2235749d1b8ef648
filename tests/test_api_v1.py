"""The agent API for P20: deleting a conversation destroys the session, with an audit entry."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import Harness, Site
from tests.support import sqlite_files
from tests.test_errors import error_of
from tests.test_session_endpoint import open_session, send

PERSONAL = ("visitor@mail.example", "Ada Visitor", "203.0.113.9", "my secret order 4242")


def _conversation(http: httpx.Client, site: Site, harness: Harness) -> str:
    token = open_session(http, site.website_id).json()["token"]
    send(http, token, "my secret order 4242")
    harness.execute(
        "UPDATE sessions SET email = 'visitor@mail.example', nickname = 'Ada Visitor', "
        "ip = '203.0.113.9'"
    )
    conversation_id: str = harness.scalar("SELECT id FROM conversations")
    return conversation_id


def _auth(site: Site, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.tokens[who]}"}


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_p20_owner_or_admin_deletes_a_conversation_and_everything_of_its_session(
    http: httpx.Client, site: Site, harness: Harness, who: str
) -> None:
    conversation_id = _conversation(http, site, harness)
    response = http.delete(f"/api/v1/conversations/{conversation_id}", headers=_auth(site, who))
    assert response.status_code == 200
    assert response.json() == {"deleted": {"conversation_id": conversation_id, "messages": 1}}
    for table in ("sessions", "conversations", "messages"):
        assert harness.scalar(f"SELECT count(*) FROM {table}") == 0
    entries = harness.rows(
        "SELECT actor_type, actor_id, action, website_id, target_type, target_id, details "
        "FROM audit_log WHERE action = 'conversation.delete'"
    )
    assert len(entries) == 1
    actor_type, actor_id, _action, website_id, target_type, target_id, _details = entries[0]
    assert (actor_type, actor_id, website_id, target_type, target_id) == (
        "operator",
        site.operator_ids[who],
        site.website_id,
        "conversation",
        conversation_id,
    )
    flat = json.dumps([str(v) for v in entries[0]])
    for value in PERSONAL:
        assert value not in flat


def test_p20_deleted_session_leaves_no_bytes_in_the_sqlite_files(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    conversation_id = _conversation(http, site, harness)
    http.delete(f"/api/v1/conversations/{conversation_id}", headers=_auth(site, "owner"))
    if not harness.settings.is_sqlite:
        return
    for name, content in sqlite_files(harness.settings.database_url).items():
        for value in PERSONAL:
            assert value.encode() not in content, f"{value} survives in {name}"


def test_p20_an_agent_cannot_delete_and_nothing_changes(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    conversation_id = _conversation(http, site, harness)
    response = http.delete(f"/api/v1/conversations/{conversation_id}", headers=_auth(site, "agent"))
    assert error_of(response, 403)["code"] == "forbidden"
    assert harness.scalar("SELECT count(*) FROM messages") == 1
    assert (
        harness.scalar("SELECT count(*) FROM audit_log WHERE action = 'conversation.delete'") == 0
    )


def test_p20_an_owner_of_another_website_sees_nothing(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    conversation_id = _conversation(http, site, harness)
    response = http.delete(
        f"/api/v1/conversations/{conversation_id}", headers=_auth(site, "other_owner")
    )
    assert error_of(response, 404)["code"] == "conversation_not_found"
    assert harness.scalar("SELECT count(*) FROM sessions") == 1


def test_an_operator_of_another_website_cannot_write_to_a_session(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    session_id = open_session(http, site.website_id).json()["session"]["id"]
    response = http.post(
        f"/api/v1/sessions/{session_id}/messages",
        json={"client_id": "x1", "body": "hi"},
        headers=_auth(site, "other_owner"),
    )
    assert error_of(response, 404)["code"] == "session_not_found"
    assert harness.scalar("SELECT state FROM sessions") == "temporary"


def test_operator_notes_are_never_shown_to_the_visitor(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    opened = open_session(http, site.website_id).json()
    http.post(
        f"/api/v1/sessions/{opened['session']['id']}/messages",
        json={"client_id": "n1", "type": "note", "body": "VIP customer"},
        headers=_auth(site, "agent"),
    )
    again = open_session(http, site.website_id, token=opened["token"]).json()
    assert again["messages"] == []
    assert harness.scalar("SELECT count(*) FROM messages WHERE type = 'note'") == 1


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "unauthenticated"),
        ({"Authorization": "Bearer not-a-token"}, "invalid_token"),
        ({"Authorization": "Basic abc"}, "unauthenticated"),
    ],
)
def test_the_agent_api_needs_a_valid_token(
    http: httpx.Client, site: Site, harness: Harness, headers: dict[str, str], code: str
) -> None:
    conversation_id = _conversation(http, site, harness)
    response = http.delete(f"/api/v1/conversations/{conversation_id}", headers=headers)
    assert error_of(response, 401)["code"] == code
    assert harness.scalar("SELECT count(*) FROM sessions") == 1


def test_openapi_document_is_public(http: httpx.Client) -> None:
    document = http.get("/api/v1/openapi.json").json()
    assert "/api/v1/conversations/{conversation_id}" in document["paths"]
    body = document["paths"]["/api/widget/v1/websites/{website_id}/session"]["post"]["requestBody"]
    assert "page" in body["content"]["application/json"]["schema"]["properties"]


def test_a_read_only_token_cannot_delete(http: httpx.Client, site: Site, harness: Harness) -> None:
    from causerie.actions.operators import do_create_api_token
    from causerie.domain.models import Actor, Scope

    _, read_only = harness.run(
        do_create_api_token(
            harness.rt, Actor.cli(), "owner@shop.example", name="r", scopes=frozenset({Scope.READ})
        )
    )
    conversation_id = _conversation(http, site, harness)
    response = http.delete(
        f"/api/v1/conversations/{conversation_id}",
        headers={"Authorization": f"Bearer {read_only}"},
    )
    assert error_of(response, 403)["code"] == "insufficient_scope"
    assert harness.scalar("SELECT count(*) FROM sessions") == 1
