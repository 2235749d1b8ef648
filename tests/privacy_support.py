"""What the privacy tests (tests/test_privacy_*.py) share: a server behind a trusted proxy and
the people who use it, and the ways to look for what must not be there: every row of every
table, and on SQLite the bytes of the database files (main file and write-ahead log).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from causerie.settings import Settings
from tests.conftest import ORIGIN, Harness, ServerThread, Site
from tests.support import is_sqlite, query, sqlite_files, table_names

# -- a server behind a trusted proxy, and the people who use it ------------------------------


@pytest.fixture
def web(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    harness: Harness,
) -> Iterator[httpx.Client]:
    """A client of a server that trusts 127.0.0.1 to set X-Forwarded-For: each visitor below
    comes from the address it names."""
    server = start_server(make_settings(trusted_proxies="127.0.0.1"))
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


@pytest.fixture
def server_log() -> Iterator[list[str]]:
    """Every line Causerie logs during the test (access log included), as formatted."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(f"{record.name}: {record.getMessage()}")

    logger = logging.getLogger("causerie")
    handler, level = Collect(logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def auth(site: Site, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.tokens[who]}"}


class Visitor:
    """One chatbox session on one website, from one address and browser."""

    def __init__(
        self,
        http: httpx.Client,
        website_id: str,
        *,
        ip: str,
        origin: str = ORIGIN,
        user_agent: str = "Mozilla/5.0 (X11; Linux) Firefox/140.0",
        page_url: str = "https://shop.example/",
        locale: str = "en-GB",
        timezone: str = "Europe/London",
    ) -> None:
        self.http, self.ip, self.origin, self.user_agent = http, ip, origin, user_agent
        response = http.post(
            f"/api/widget/v1/websites/{website_id}/session",
            json={
                "page": {"url": page_url, "title": "A page", "referrer": ""},
                "locale": locale,
                "timezone": timezone,
            },
            headers=self.base_headers,
        )
        assert response.status_code == 201, response.text
        data = response.json()
        self.token: str = data["token"]
        self.session_id: str = data["session"]["id"]
        self.website: dict[str, Any] = data["website"]

    @property
    def base_headers(self) -> dict[str, str]:
        return {"Origin": self.origin, "X-Forwarded-For": self.ip, "User-Agent": self.user_agent}

    @property
    def headers(self) -> dict[str, str]:
        return {**self.base_headers, "Authorization": f"Bearer {self.token}"}

    def say(self, body: str) -> httpx.Response:
        return self.http.post(
            "/api/widget/v1/session/messages",
            json={"client_id": secrets.token_hex(6), "type": "text", "body": body},
            headers=self.headers,
        )

    def profile(self, **fields: Any) -> httpx.Response:
        return self.http.patch("/api/widget/v1/session/profile", json=fields, headers=self.headers)

    def consent(self, version: int) -> httpx.Response:
        return self.http.post(
            "/api/widget/v1/session/consent", json={"version": version}, headers=self.headers
        )


def operator_says(
    http: httpx.Client, site: Site, session_id: str, body: str, type_: str = "text"
) -> None:
    response = http.post(
        f"/api/v1/sessions/{session_id}/messages",
        json={"client_id": secrets.token_hex(6), "type": type_, "body": body},
        headers=auth(site, "agent"),
    )
    assert response.status_code == 201, response.text


def privacy(http: httpx.Client, site: Site, who: str, op: str, **body: str) -> httpx.Response:
    return http.post(f"/api/v1/privacy/{op}", json=body, headers=auth(site, who))


def patch_website(
    http: httpx.Client, site: Site, who: str, website_id: str, **body: Any
) -> httpx.Response:
    return http.patch(f"/api/v1/websites/{website_id}", json=body, headers=auth(site, who))


# -- looking for what must not be there --------------------------------------------------------


def database_text(url: str) -> dict[str, str]:
    """Every row of every table the database holds (not only Causerie's), as text."""
    found = {}
    for table in sorted(table_names(url)):
        if is_sqlite(url):
            rows = query(url, f'SELECT * FROM "{table}"')
        else:
            rows = query(url, f'SELECT row_to_json(t)::text FROM "{table}" t')
        found[table] = repr(rows)
    return found


def assert_nowhere(url: str, markers: list[str]) -> None:
    for table, text in database_text(url).items():
        for marker in markers:
            assert marker not in text, f"{marker!r} survives in table {table}"
    for name, content in sqlite_files(url).items():
        for marker in markers:
            assert marker.encode() not in content, f"{marker!r} survives in the file {name}"


def audit_rows(harness: Harness, action: str | None = None) -> list[tuple[Any, ...]]:
    sql = (
        "SELECT actor_type, actor_id, action, website_id, target_type, target_id, details "
        "FROM audit_log"
    )
    if action is not None:
        return harness.rows(sql + " WHERE action = :a ORDER BY at, id", a=action)
    return harness.rows(sql + " ORDER BY at, id")


def details_of(row: tuple[Any, ...]) -> dict[str, Any]:
    details = row[6]
    return json.loads(details) if isinstance(details, str) else dict(details)


def assert_audit_holds_no(harness: Harness, markers: list[str]) -> None:
    text = json.dumps([[str(v) for v in row] for row in audit_rows(harness)])
    for marker in markers:
        assert marker not in text, f"{marker!r} is in the audit log"


def messages_of(harness: Harness, session_ids: list[str]) -> int:
    total = 0
    for session_id in session_ids:
        total += harness.scalar(
            "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            "WHERE c.session_id = :s",
            s=session_id,
        )
    return total
