"""Messages sent over HTTP are held to a socket's pace (issue 12, finding 9): a visitor's session
and an operator each send at most `2 x CAUSERIE_FRAME_RATE` messages a second; the next one gets
429 `rate_limited` with `Retry-After`, and nothing of it is stored. The clock is the test's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

from causerie.clock import ManualClock
from causerie.settings import Settings
from tests.conftest import ORIGIN, Harness, ServerThread, Site

RATE = "2/s"  # bursts of 4 a second


def _open(http: httpx.Client, site: Site) -> dict[str, Any]:
    """A new visitor's chatbox load: its token and session."""
    opened: dict[str, Any] = http.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"page": {"url": f"{ORIGIN}/"}},
        headers={"Origin": ORIGIN},
    ).json()
    return opened


def _visitor_send(http: httpx.Client, token: str, client_id: str) -> httpx.Response:
    return http.post(
        "/api/widget/v1/session/messages",
        json={"client_id": client_id, "body": f"hello {client_id}"},
        headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN},
    )


def test_a_visitor_sending_over_http_is_held_to_a_sockets_pace(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    harness: Harness,
    site: Site,
    clock: ManualClock,
) -> None:
    server = start_server(make_settings(frame_rate=RATE))
    with httpx.Client(base_url=server.url, timeout=10) as http:
        token = _open(http, site)["token"]
        statuses = [_visitor_send(http, token, f"m{i}").status_code for i in range(4)]
        assert statuses == [201] * 4
        refused = _visitor_send(http, token, "m4")
        assert refused.status_code == 429
        assert refused.json()["error"] == {
            "code": "rate_limited",
            "message": "too many messages; try again in 1 second",
        }
        # The next token comes in 0.25 s, told in whole seconds.
        assert refused.headers["retry-after"] == "1"
        assert harness.scalar("SELECT count(*) FROM messages") == 4

        other = _open(http, site)["token"]
        assert _visitor_send(http, other, "o1").status_code == 201  # another visitor's own pace

        clock.advance(timedelta(seconds=1))
        assert _visitor_send(http, token, "m4").status_code == 201
        assert harness.scalar("SELECT count(*) FROM messages") == 6


def test_an_operator_sending_over_http_is_held_to_a_sockets_pace(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    harness: Harness,
    site: Site,
    clock: ManualClock,
) -> None:
    server = start_server(make_settings(frame_rate=RATE))
    with httpx.Client(base_url=server.url, timeout=10) as http:
        session = _open(http, site)["session"]["id"]
        agent = {"Authorization": f"Bearer {site.tokens['agent']}"}

        def reply(client_id: str) -> httpx.Response:
            return http.post(
                f"/api/v1/sessions/{session}/messages",
                json={"client_id": client_id, "body": "hi", "type": "text"},
                headers=agent,
            )

        assert [reply(f"a{i}").status_code for i in range(4)] == [201] * 4
        refused = reply("a4")
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited"
        assert "retry-after" in refused.headers
        assert harness.scalar("SELECT count(*) FROM messages") == 4
        clock.advance(timedelta(seconds=1))
        assert reply("a4").status_code == 201


def test_one_network_opens_at_most_its_new_sessions_a_minute_and_renewals_never_count(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    harness: Harness,
    site: Site,
    clock: ManualClock,
) -> None:
    settings = make_settings(new_session_rate="6/m", trusted_proxies="127.0.0.1")
    server = start_server(settings)

    def load(address: str, token: str | None = None) -> httpx.Response:
        body: dict[str, object] = {"page": {"url": f"{ORIGIN}/"}}
        if token is not None:
            body["token"] = token
        return http.post(
            f"/api/widget/v1/websites/{site.website_id}/session",
            json=body,
            headers={"Origin": ORIGIN, "X-Forwarded-For": address},
        )

    with httpx.Client(base_url=server.url, timeout=10) as http:
        opened = [load(f"203.0.113.{i}") for i in range(1, 4)]  # one /24
        assert [r.status_code for r in opened] == [201] * 3
        refused = load("203.0.113.99")
        assert refused.status_code == 429
        assert refused.json()["error"] == {
            "code": "rate_limited",
            "message": "too many new chat sessions from this network; try again in 20 seconds",
        }
        assert refused.headers["retry-after"] == "20"  # 6/m: 3 at once, then one each 20 s
        assert harness.scalar("SELECT count(*) FROM sessions") == 3

        token = opened[0].json()["token"]
        assert load("203.0.113.1", token).status_code == 200  # a renewal is not a new session
        assert load("198.51.100.7").status_code == 201  # another network has its own count
        clock.advance(timedelta(minutes=1))
        assert load("203.0.113.99").status_code == 201
        assert harness.scalar("SELECT count(*) FROM sessions") == 5
