"""The retention purge ends the sockets of what it destroys, as a deletion does (docs/realtime.md
"When access ends"): a temporary session expired (P15, P17) or a resolved conversation past its
retention (P6) closes the visitor's socket (`invalid_session`, 4004), and the website's agents
hear `conversation.deleted`. It used to say nothing: the socket stayed open on a session that no
longer existed until its next message. The server's own purge, over real sockets, the injected
clock moved; SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from causerie.clock import ManualClock
from causerie.settings import Settings
from tests.conftest import Harness, ServerThread, Site
from tests.live import PATIENCE, Live, agent, visitor
from tests.test_session_endpoint import open_session, send


@pytest.fixture
def served(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    harness: Harness,
) -> ServerThread:
    # The server's own purge, due a minute after it starts.
    return start_server(make_settings(purge_interval="1m", conversation_retention="1d"))


def _closed_as_gone(live: Live) -> None:
    """`invalid_session`, then the close with 4004, within PATIENCE (the purge job runs as soon
    as the server's job loop looks: every half second when idle)."""
    assert live.expect("error", timeout=PATIENCE)["code"] == "invalid_session"
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            live.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4004


def test_p15_an_expired_temporary_session_s_socket_is_closed_by_the_purge(
    served: ServerThread, site: Site, harness: Harness, clock: ManualClock
) -> None:
    with httpx.Client(base_url=served.url, timeout=10) as http:
        token = open_session(http, site.website_id).json()["token"]
        live, _ = visitor(served.url, token)
        try:
            clock.advance(timedelta(minutes=31))
            _closed_as_gone(live)
        finally:
            live.close()
    assert harness.scalar("SELECT count(*) FROM sessions") == 0


def test_p6_a_purged_conversation_closes_the_visitor_s_socket_and_tells_the_agents(
    served: ServerThread, site: Site, harness: Harness, clock: ManualClock
) -> None:
    with httpx.Client(base_url=served.url, timeout=10) as http:
        token = open_session(http, site.website_id).json()["token"]
        sent = send(http, token)
        assert sent.status_code == 201, sent.text
        conversation_id = sent.json()["message"]["conversation_id"]
        resolved = http.post(
            f"/api/v1/conversations/{conversation_id}/resolve",
            headers={"Authorization": f"Bearer {site.tokens['agent']}"},
        )
        assert resolved.status_code == 200, resolved.text
        chat, _ = visitor(served.url, token)
        desk, _ = agent(served.url, site.tokens["agent"], site.website_id)
        try:
            clock.advance(timedelta(days=1, minutes=1))
            desk.expect("conversation.deleted", conversation_id=conversation_id)
            _closed_as_gone(chat)
        finally:
            chat.close()
            desk.close()
    assert harness.scalar("SELECT count(*) FROM conversations") == 0
