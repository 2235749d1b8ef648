"""How strictly the HTTP API reads what an outside program sends, and what its errors echo
(docs/api.md, "Query parameters", "Bodies", "Errors"), on a real server and database.

- An integer query parameter is decimal digits alone: `5.0`, `+5`, ` 5` and `5_0` (which
  pydantic's lax mode read as 50) are 422 naming it; a query parameter given twice is 422
  naming it (the last one was taken silently).
- A JSON body of the agents' API with a name twice in one object is 400 `invalid_json` naming
  it (the last one won); the chatbox's bodies, read on pydantic's fast path, keep the last.
- JSON in UTF-16, UTF-32 or with a byte order mark is 400 `invalid_json` naming the encoding
  on both APIs (the agents' API read it).
- An error names at most 64 characters of a value it echoes.
- `/me` answers `csrf_token: null` to an API token, as the docs and the OpenAPI document say.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.conftest import ORIGIN, Harness, Site

LAX_INTEGERS = ("5.0", "+5", "%205", "5%20", "5_0", "0x5", "5e0", "%D9%A5")


def _agent(site: Site) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.tokens['owner']}"}


def _visitor(http: httpx.Client, site: Site) -> dict[str, str]:
    opened = http.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"page": {"url": "https://shop.example/"}},
        headers={"Origin": ORIGIN},
    )
    assert opened.status_code == 201, opened.text
    return {"Authorization": f"Bearer {opened.json()['token']}", "Origin": ORIGIN}


def _refused(answer: httpx.Response, status: int, code: str) -> str:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code, error
    message: str = error["message"]
    return message


def test_an_integer_query_parameter_is_decimal_digits_alone(http: httpx.Client, site: Site) -> None:
    visitor = _visitor(http, site)
    sent = http.post(
        "/api/widget/v1/session/messages", json={"client_id": "c0", "body": "hi"}, headers=visitor
    )
    assert sent.status_code == 201, sent.text
    conversation_id = sent.json()["message"]["conversation_id"]
    agent = _agent(site)
    routes = (
        (f"/api/v1/websites/{site.website_id}/conversations", "limit", agent),
        (f"/api/v1/conversations/{conversation_id}/messages", "limit", agent),
        (f"/api/v1/websites/{site.website_id}/audit", "limit", agent),
        (f"/api/v1/websites/{site.website_id}/stats", "days", agent),
        ("/api/widget/v1/session/messages", "limit", visitor),
    )
    for path, name, headers in routes:
        assert http.get(f"{path}?{name}=5", headers=headers).status_code == 200, path
        for lax in LAX_INTEGERS:
            answer = http.get(f"{path}?{name}={lax}", headers=headers)
            message = _refused(answer, 422, "invalid_request")
            assert message.startswith(f"{name}: must be a whole number in decimal digits"), (
                path,
                lax,
                message,
            )


def test_a_query_parameter_given_twice_is_refused_naming_it(http: httpx.Client, site: Site) -> None:
    path = f"/api/v1/websites/{site.website_id}/conversations"
    answer = http.get(f"{path}?limit=5&state=all&limit=6", headers=_agent(site))
    message = _refused(answer, 422, "invalid_request")
    assert message == "limit: given more than once; give each query parameter once"
    answer = http.get(f"{path}?limit=5&state=all", headers=_agent(site))
    assert answer.status_code == 200, answer.text


def test_a_name_twice_in_an_agents_api_body_is_400_naming_it(
    http: httpx.Client, harness: Harness, site: Site
) -> None:
    before = http.get("/api/v1/me", headers=_agent(site)).json()["operator"]["name"]
    answer = http.patch(
        "/api/v1/me",
        content=b'{"language": "fr", "name": "First", "name": "Second"}',
        headers={**_agent(site), "Content-Type": "application/json"},
    )
    message = _refused(answer, 400, "invalid_json")
    assert "'name' is given twice" in message, message
    me = http.get("/api/v1/me", headers=_agent(site)).json()
    assert (me["operator"]["name"], me["language"]) == (before, None)  # nothing changed
    nested = http.patch(
        "/api/v1/me",
        content=b'{"notification_preferences": {"mail_digest": true, "mail_digest": false}}',
        headers={**_agent(site), "Content-Type": "application/json"},
    )
    assert "'mail_digest' is given twice" in _refused(nested, 400, "invalid_json")


def test_the_chatbox_keeps_the_last_of_a_name_given_twice(http: httpx.Client, site: Site) -> None:
    """The chatbox's rule, documented: its bodies are read by pydantic's parser alone."""
    sent = http.post(
        "/api/widget/v1/session/messages",
        content=b'{"client_id": "c1", "body": "first", "body": "second"}',
        headers={**_visitor(http, site), "Content-Type": "application/json"},
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["message"]["body"] == "second"


@pytest.mark.parametrize(
    ("encoding", "named"),
    [
        ("utf-16", "UTF-16"),
        ("utf-16-le", "UTF-16"),
        ("utf-16-be", "UTF-16"),
        ("utf-32", "UTF-32"),
        ("utf-32-le", "UTF-32"),
        ("utf-8-sig", "UTF-8 with a byte order mark"),
    ],
)
def test_json_in_another_encoding_than_utf8_is_400_naming_it_on_both_apis(
    http: httpx.Client, site: Site, encoding: str, named: str
) -> None:
    expected = f"the body is {named}: send JSON in UTF-8 without a byte order mark (RFC 8259)"
    agent = http.patch(
        "/api/v1/me",
        content=json.dumps({"name": "Encoded"}).encode(encoding),
        headers={**_agent(site), "Content-Type": "application/json"},
    )
    assert _refused(agent, 400, "invalid_json") == expected
    assert http.get("/api/v1/me", headers=_agent(site)).json()["operator"]["name"] != "Encoded"
    chatbox = http.post(
        "/api/widget/v1/session/messages",
        content=json.dumps({"client_id": "c2", "body": "hi"}).encode(encoding),
        headers={**_visitor(http, site), "Content-Type": "application/json"},
    )
    assert _refused(chatbox, 400, "invalid_json") == expected


def test_an_error_echoes_at_most_64_characters_of_a_value(http: httpx.Client, site: Site) -> None:
    long_id = "x" * 5_000
    for path in (
        f"/api/v1/conversations/{long_id}",
        f"/api/v1/websites/{long_id}/conversations",
        f"/api/v1/websites/{site.website_id}/labels/{long_id}",
    ):
        answer = http.get(path, headers=_agent(site))
        assert answer.status_code in (404, 405), answer.text
        message = answer.json()["error"]["message"]
        assert "x" * 65 not in message, (path, len(message))
        if answer.status_code == 404 and "nothing at" not in message:
            assert f"'{'x' * 64}'…" in message, message
    origin = "https://" + "a" * 5_000 + ".example"
    refused = http.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"page": {"url": "https://shop.example/"}},
        headers={"Origin": origin},
    )
    assert refused.status_code == 403, refused.text
    assert "a" * 65 not in refused.json()["error"]["message"]


def test_an_unknown_fields_name_is_echoed_cut_to_64_characters(
    http: httpx.Client, site: Site
) -> None:
    field = "f" * 5_000
    agent = http.patch("/api/v1/me", json={"name": "Ada", field: 1}, headers=_agent(site))
    chatbox = http.post(
        "/api/widget/v1/session/messages",
        json={"client_id": "c1", "body": "hi", field: 1},
        headers=_visitor(http, site),
    )
    for answer in (agent, chatbox):
        message = _refused(answer, 422, "invalid_request")
        assert "f" * 65 not in message and "f" * 64 + "…" in message, message[:200]


def test_me_answers_csrf_token_null_to_a_token_as_documented(
    http: httpx.Client, site: Site
) -> None:
    me = http.get("/api/v1/me", headers=_agent(site)).json()
    assert "csrf_token" in me and me["csrf_token"] is None
    schema = http.get("/api/v1/openapi.json").json()["components"]["schemas"]["MeOut"]
    assert "csrf_token" in schema["required"]
    assert {"type": "null"} in schema["properties"]["csrf_token"]["anyOf"]
    docs = (Path(__file__).parent.parent / "docs" / "api.md").read_text()
    assert '"csrf_token": str\\|null' in docs
