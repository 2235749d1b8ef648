"""How a JSON body that pydantic's or FastAPI's parser cannot read is answered.

A lone surrogate written as a JSON escape (`"\\ud800"`, which JSON's grammar allows) is a
value the API refuses, `422 invalid_request` naming the field (docs/api.md, "Refused values"),
on the chatbox's routes as on the agents'. The chatbox's bodies are read by pydantic's parser,
which refuses such an escape as no JSON at all: they answered `400 invalid_json`, "the body is
not valid JSON", which names nothing. The parsing does not depend on the database: SQLite only.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import ORIGIN, Harness, Site

LONE = b'"hi \\ud800 there"'


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'causerie.db'}"


def _rows(harness: Harness) -> tuple[object, ...]:
    return (
        harness.scalar("SELECT count(*) FROM sessions"),
        harness.scalar("SELECT count(*) FROM messages"),
        harness.scalar("SELECT count(*) FROM ratings"),
        harness.scalar("SELECT nickname FROM sessions WHERE nickname IS NOT NULL"),
    )


def test_a_lone_surrogate_escape_in_a_chatbox_body_is_422_naming_the_field(
    http: httpx.Client, harness: Harness, site: Site
) -> None:
    opened = http.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"page": {"url": "https://shop.example/"}},
        headers={"Origin": ORIGIN},
    )
    assert opened.status_code == 201, opened.text
    visitor = {
        "Authorization": f"Bearer {opened.json()['token']}",
        "Origin": ORIGIN,
        "Content-Type": "application/json",
    }
    sent = http.post(
        "/api/widget/v1/session/messages", json={"client_id": "c0", "body": "hi"}, headers=visitor
    )
    assert sent.status_code == 201, sent.text
    conversation_id = sent.json()["message"]["conversation_id"]
    before = _rows(harness)

    for method, path, body, field in (
        (
            "POST",
            f"/api/widget/v1/websites/{site.website_id}/session",
            b'{"page": {"url": "https://shop.example/", "title": ' + LONE + b"}}",
            "page.title",
        ),
        (
            "POST",
            "/api/widget/v1/session/messages",
            b'{"client_id": "c1", "body": ' + LONE + b"}",
            "body",
        ),
        ("PATCH", "/api/widget/v1/session/profile", b'{"nickname": ' + LONE + b"}", "nickname"),
        ("PATCH", "/api/widget/v1/session/profile", b'{"data": {"k": ' + LONE + b"}}", "data.k"),
        (
            "POST",
            f"/api/widget/v1/session/conversations/{conversation_id}/rating",
            b'{"rating": 5, "comment": ' + LONE + b"}",
            "comment",
        ),
    ):
        answer = http.request(method, path, content=body, headers=visitor)
        assert answer.status_code == 422, (path, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "invalid_request", (path, error)
        assert error["message"].startswith(f"{field}: text must be valid Unicode"), error

    # What is no JSON stays 400, escapes or not.
    for broken in (b'{"client_id": "c2", "body": "\\ud800', b'{"body": "\\uZZZZ"}', b"\\u0041"):
        answer = http.post("/api/widget/v1/session/messages", content=broken, headers=visitor)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["code"] == "invalid_json"
    # A surrogate pair is a character as any other.
    paired = http.post(
        "/api/widget/v1/session/messages",
        content=b'{"client_id": "c3", "body": "smile \\ud83d\\ude00"}',
        headers=visitor,
    )
    assert paired.status_code == 201, paired.text
    assert paired.json()["message"]["body"] == "smile \U0001f600"
    assert _rows(harness)[0] == before[0]
    assert _rows(harness)[1] == before[1] + 1  # the pair's message only
    assert _rows(harness)[2:] == before[2:]


def test_an_agent_api_body_that_is_no_utf8_or_too_deep_is_400_invalid_json(
    http: httpx.Client, harness: Harness, site: Site
) -> None:
    """docs/api.md: a body that is not JSON is `400 invalid_json`, and so is one nested too deep
    to parse. On `/api/v1` bytes that are no UTF-8 (a Latin-1 `é`) and 5,000 nested arrays
    answered `400 bad_request`, "There was an error parsing the body" (FastAPI's words): a code
    the API documents nowhere."""
    owner = {"Authorization": f"Bearer {site.tokens['owner']}"}
    before = harness.scalar(
        "SELECT name FROM operators WHERE id = :o", o=site.operator_ids["owner"]
    )
    for body, content_type in (
        ('{"name": "Zoé"}'.encode("latin-1"), "application/json; charset=latin-1"),
        (b'{"name": "Zo\xff"}', "application/json"),
        (b'{"name": ' + b"[" * 5000 + b"]" * 5000 + b"}", "application/json"),
    ):
        answer = http.patch(
            "/api/v1/me", content=body, headers={**owner, "Content-Type": content_type}
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] == {
            "code": "invalid_json",
            "message": "the body is not valid JSON",
        }
    after = harness.scalar("SELECT name FROM operators WHERE id = :o", o=site.operator_ids["owner"])
    assert after == before
