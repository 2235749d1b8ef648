"""Bad input gets the error format of SPEC.md, a fitting status, and changes nothing."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import ORIGIN, Harness, Site
from tests.test_session_endpoint import PAGE, open_session, send

TABLES = ("sessions", "conversations", "messages", "audit_log", "network_stats")


def snapshot(harness: Harness) -> dict[str, int]:
    return {table: harness.scalar(f"SELECT count(*) FROM {table}") for table in TABLES}


@pytest.fixture
def unchanged(harness: Harness, site: Site) -> Iterator[None]:
    before = snapshot(harness)
    yield
    assert snapshot(harness) == before


def error_of(response: httpx.Response, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["message"]
    error: dict[str, str] = body["error"]
    return error


def session_url(site: Site) -> str:
    return f"/api/widget/v1/websites/{site.website_id}/session"


@pytest.mark.usefixtures("unchanged")
class TestSessionEndpointRefusals:
    def test_malformed_json_is_400(self, http: httpx.Client, site: Site) -> None:
        response = http.post(session_url(site), content=b'{"page": ', headers={"Origin": ORIGIN})
        assert error_of(response, 400)["code"] == "invalid_json"

    def test_empty_body_is_400(self, http: httpx.Client, site: Site) -> None:
        assert error_of(http.post(session_url(site)), 400)["code"] == "invalid_json"

    def test_json_that_is_not_an_object_is_422(self, http: httpx.Client, site: Site) -> None:
        error = error_of(http.post(session_url(site), json=[1, 2]), 422)
        assert error["code"] == "invalid_request"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"page": "home"}, "page"),
            ({"page": {"url": 5}}, "page.url"),
            ({"page": PAGE, "token": 12}, "token"),
            ({"page": PAGE, "locale": "not a locale!"}, "locale"),
            ({"page": {**PAGE, "url": "x" * 3000}}, "page.url"),
            ({"page": PAGE, "extra": True}, "extra"),
            ({}, "page"),
        ],
    )
    def test_wrong_types_are_422_naming_the_field(
        self, http: httpx.Client, site: Site, body: dict[str, object], field: str
    ) -> None:
        error = error_of(http.post(session_url(site), json=body), 422)
        assert error["code"] == "invalid_request"
        assert error["message"].startswith(field)

    def test_unknown_website_is_404(self, http: httpx.Client) -> None:
        response = http.post("/api/widget/v1/websites/nosuchsite/session", json={"page": PAGE})
        assert error_of(response, 404)["code"] == "website_not_found"

    def test_oversized_body_is_413(self, http: httpx.Client, site: Site) -> None:
        body = b'{"page": {"title": "' + b"x" * 70_000 + b'"}}'
        assert error_of(http.post(session_url(site), content=body), 413)["code"] == "body_too_large"

    def test_oversized_chunked_body_is_413(self, http: httpx.Client, site: Site) -> None:
        def chunks() -> Iterator[bytes]:
            yield b'{"page": {"title": "'
            for _ in range(20):
                yield b"x" * 8192
            yield b'"}}'

        response = http.post(session_url(site), content=chunks())
        assert error_of(response, 413)["code"] == "body_too_large"

    def test_origin_not_allowed_gets_no_grant_and_no_session(
        self, http: httpx.Client, site: Site
    ) -> None:
        response = http.post(
            session_url(site), json={"page": PAGE}, headers={"Origin": "https://evil.example"}
        )
        assert error_of(response, 403)["code"] == "origin_not_allowed"
        assert "access-control-allow-origin" not in response.headers

    def test_origin_of_another_website_cannot_open_a_session_here(
        self, http: httpx.Client, site: Site
    ) -> None:
        response = http.post(
            session_url(site), json={"page": PAGE}, headers={"Origin": "https://other.example"}
        )
        assert error_of(response, 403)["code"] == "origin_not_allowed"


def test_other_methods_on_the_session_path_are_405(http: httpx.Client, site: Site) -> None:
    response = http.get(session_url(site), headers={"Origin": ORIGIN})
    assert error_of(response, 405)["code"] == "method_not_allowed"
    assert response.headers["access-control-allow-origin"] == ORIGIN
    # The chatbox reads a 429's Retry-After (an upload's: docs/widget.md, "Files").
    assert response.headers["access-control-expose-headers"] == "Retry-After"


def test_preflight_grants_only_known_origins(http: httpx.Client, site: Site) -> None:
    request = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    allowed = http.options(session_url(site), headers={"Origin": ORIGIN, **request})
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "authorization" in allowed.headers["access-control-allow-headers"]
    refused = http.options(session_url(site), headers={"Origin": "https://evil.example", **request})
    # The API's error body, as every answer (it was empty: branch audit, second pass).
    assert error_of(refused, 403)["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in refused.headers


class TestMessageRefusals:
    @pytest.fixture
    def token(self, http: httpx.Client, site: Site, harness: Harness) -> str:
        token: str = open_session(http, site.website_id).json()["token"]
        return token

    @pytest.fixture(autouse=True)
    def _unchanged(self, token: str, harness: Harness) -> Iterator[None]:
        before = snapshot(harness)
        yield
        assert snapshot(harness) == before

    def test_no_token_is_401(self, http: httpx.Client) -> None:
        response = http.post(
            "/api/widget/v1/session/messages", json={"client_id": "a", "body": "x"}
        )
        assert error_of(response, 401)["code"] == "unauthenticated"

    def test_unknown_token_is_401(self, http: httpx.Client) -> None:
        assert error_of(send(http, "forged"), 401)["code"] == "invalid_session"

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            ("", "empty_message"),
            ("   \n", "empty_message"),
            ("x" * 10_001, "message_too_long"),
        ],
    )
    def test_bad_bodies_are_422(self, http: httpx.Client, token: str, body: str, code: str) -> None:
        assert error_of(send(http, token, body), 422)["code"] == code

    def test_bad_client_id_is_422(self, http: httpx.Client, token: str) -> None:
        assert (
            error_of(send(http, token, "hi", client_id="has spaces"), 422)["code"]
            == "invalid_client_id"
        )

    def test_visitor_cannot_send_a_note(self, http: httpx.Client, token: str) -> None:
        response = http.post(
            "/api/widget/v1/session/messages",
            json={"client_id": "n1", "type": "note", "body": "private"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert error_of(response, 422)["code"] == "invalid_message_type"

    def test_wrong_origin_cannot_use_a_valid_token(self, http: httpx.Client, token: str) -> None:
        response = http.post(
            "/api/widget/v1/session/messages",
            json={"client_id": "o1", "body": "hi"},
            headers={"Authorization": f"Bearer {token}", "Origin": "https://other.example"},
        )
        assert error_of(response, 403)["code"] == "origin_not_allowed"


def test_the_10000_character_limit_is_inclusive(http: httpx.Client, site: Site) -> None:
    token = open_session(http, site.website_id).json()["token"]
    assert send(http, token, "x" * 10_000).status_code == 201


def test_same_client_id_stores_one_message_and_returns_it_again(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    token = open_session(http, site.website_id).json()["token"]
    first = send(http, token, "once", client_id="dup-1")
    second = send(http, token, "once", client_id="dup-1")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert harness.scalar("SELECT count(*) FROM messages") == 1


def test_visitor_pages_back_through_older_messages(http: httpx.Client, site: Site) -> None:
    token = open_session(http, site.website_id).json()["token"]
    ids = [send(http, token, f"m{i}", client_id=f"c{i}").json()["message"]["id"] for i in range(5)]
    auth = {"Authorization": f"Bearer {token}"}
    latest = http.get("/api/widget/v1/session/messages", params={"limit": 2}, headers=auth).json()
    assert [m["id"] for m in latest["messages"]] == ids[3:]
    older = http.get(
        "/api/widget/v1/session/messages", params={"limit": 2, "before": ids[3]}, headers=auth
    ).json()
    assert [m["id"] for m in older["messages"]] == ids[1:3]


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/nowhere", 404, "not_found"),
        ("GET", "/api/widget/v1/websites/x/session", 405, "method_not_allowed"),
        ("GET", "/api/widget/v1/session/messages?limit=0", 401, "unauthenticated"),
    ],
)
def test_transport_errors_use_the_error_format(
    http: httpx.Client, method: str, path: str, status: int, code: str
) -> None:
    assert error_of(http.request(method, path), status)["code"] == code


def test_query_validation_names_the_parameter(http: httpx.Client, site: Site) -> None:
    token = open_session(http, site.website_id).json()["token"]
    response = http.get(
        "/api/widget/v1/session/messages",
        params={"limit": 1000},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert error_of(response, 422)["message"].startswith("limit")


def test_unknown_before_id_is_404(http: httpx.Client, site: Site) -> None:
    token = open_session(http, site.website_id).json()["token"]
    send(http, token, "hi")
    response = http.get(
        "/api/widget/v1/session/messages",
        params={"before": "nope"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert error_of(response, 404)["code"] == "message_not_found"


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_a_refused_origin_is_logged_once_with_the_website_and_origin_but_no_address(
    http: httpx.Client, site: Site
) -> None:
    """The page's owner sees no chatbox and the browser hides why: the server log says it."""
    records = _Records()
    logger = logging.getLogger("causerie.widget")
    logger.addHandler(records)
    try:
        for _ in range(3):
            response = http.post(
                session_url(site),
                json={"page": PAGE},
                headers={"Origin": "https://typo.example", "X-Forwarded-For": "198.51.100.9"},
            )
            assert error_of(response, 403)["code"] == "origin_not_allowed"
    finally:
        logger.removeHandler(records)
    (line,) = [text for text in records.lines if "https://typo.example" in text]
    assert site.website_id in line and "add the origin" in line
    assert "127.0.0.1" not in line and "198.51.100.9" not in line
