"""An agent socket ends with its access (docs/realtime.md "When access ends"): a revoked API token,
a logout, another login's password change, an expired login, a removal from the website, a deleted
website. Over real sockets on SQLite and PostgreSQL; several nodes are in test_nodes_access.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from causerie.actions.accounts import do_change_password, do_login, do_logout
from causerie.actions.api_tokens import do_revoke_api_token
from causerie.actions.members import do_remove_member
from causerie.actions.operators import do_reset_password
from causerie.actions.websites import do_delete_website
from causerie.clock import ManualClock
from causerie.domain.access import ACCESS_CHANNEL
from causerie.domain.errors import NotFound
from causerie.domain.models import Actor, Scope
from causerie.settings import Settings
from tests.conftest import Harness, ServerThread, Site
from tests.live import PATIENCE, Live, agent, visitor, ws_url
from tests.support import wait_until
from tests.test_accounts import login
from tests.test_session_endpoint import open_session

CLOSE_ACCESS_REVOKED = 4003
CLOSE_CREDENTIAL_ENDED = 4010


@pytest.fixture
def clients() -> Iterator[list[Live]]:
    opened: list[Live] = []
    yield opened
    for live in opened:
        live.close()


def _agent(server: ServerThread, clients: list[Live], token: str, website_id: str) -> Live:
    live, _ = agent(server.url, token, website_id)
    clients.append(live)
    return live


def _inbox(server: ServerThread, clients: list[Live], http: httpx.Client, website_id: str) -> Live:
    """An agent socket as the inbox opens it: the login cookie on the handshake, no token."""
    cookie = http.cookies["causerie_login"]
    live = Live(
        ws_url(server.url, "/ws/agent"), origin=None, headers={"Cookie": f"causerie_login={cookie}"}
    )
    clients.append(live)
    live.send({"type": "auth", "website_id": website_id})
    live.expect("ready")
    return live


def ended(live: Live, close_code: int, error_code: str) -> dict[str, Any]:
    """The socket's `error` frame, after which nothing more comes but the close `close_code`."""
    error = live.expect("error")
    assert error["code"] == error_code, error
    with pytest.raises(ConnectionClosed) as closed:
        live.recv()
    assert closed.value.rcvd is not None, "closed without a close frame"
    assert closed.value.rcvd.code == close_code
    return error


def still_open(live: Live) -> None:
    live.barrier()


def _send_to(live: Live, session_id: str, client_id: str) -> None:
    """Send a message, unless the server closed the socket already (it may be that quick)."""
    frame = {"type": "message.send", "client_id": client_id, "body": "late"}
    with contextlib.suppress(ConnectionClosed):
        live.send({**frame, "session_id": session_id})


def test_a_revoked_api_token_closes_its_sockets_and_what_they_send_is_refused(
    server: ServerThread, http: httpx.Client, site: Site, harness: Harness, clients: list[Live]
) -> None:
    desk = _agent(server, clients, site.tokens["agent"], site.website_id)
    owner = _agent(server, clients, site.tokens["owner"], site.website_id)
    session_id = open_session(http, site.website_id).json()["session"]["id"]
    csrf = login(http, site, "agent")
    (token,) = http.get("/api/v1/tokens").json()["tokens"]
    revoked = http.delete(f"/api/v1/tokens/{token['id']}", headers={"X-CSRF-Token": csrf})
    assert revoked.status_code == 204
    _send_to(desk, session_id, "after-revocation")
    error = ended(desk, CLOSE_CREDENTIAL_ENDED, "credential_revoked")
    assert "client_id" not in error
    assert harness.scalar("SELECT count(*) FROM messages") == 0
    still_open(owner)


def test_logging_out_closes_the_sockets_of_that_login(
    server: ServerThread, http: httpx.Client, site: Site, clients: list[Live]
) -> None:
    csrf = login(http, site, "agent")
    desk = _inbox(server, clients, http, site.website_id)
    other = _agent(server, clients, site.tokens["agent"], site.website_id)  # a token: not ended
    assert http.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    ended(desk, CLOSE_CREDENTIAL_ENDED, "credential_revoked")
    still_open(other)


def test_a_password_change_closes_the_sockets_of_the_other_logins(
    server: ServerThread, site: Site, clients: list[Live]
) -> None:
    with httpx.Client(base_url=server.url) as first, httpx.Client(base_url=server.url) as second:
        csrf = login(first, site, "agent")
        login(second, site, "agent")
        mine = _inbox(server, clients, first, site.website_id)
        theirs = _inbox(server, clients, second, site.website_id)
        changed = first.post(
            "/api/v1/me/password",
            json={"current_password": site.passwords["agent"], "new_password": "a new long one!"},
            headers={"X-CSRF-Token": csrf},
        )
        assert changed.status_code == 204
        ended(theirs, CLOSE_CREDENTIAL_ENDED, "credential_revoked")
        still_open(mine)


def test_a_frame_after_the_login_s_end_is_refused_and_the_socket_closes(
    server: ServerThread,
    http: httpx.Client,
    site: Site,
    harness: Harness,
    clock: ManualClock,
    clients: list[Live],
) -> None:
    session_id = open_session(http, site.website_id).json()["session"]["id"]
    login(http, site, "agent")
    desk = _inbox(server, clients, http, site.website_id)
    clock.advance(server.rt.settings.login_ttl + timedelta(seconds=1))
    _send_to(desk, session_id, "after-expiry")
    ended(desk, CLOSE_CREDENTIAL_ENDED, "credential_expired")
    assert harness.scalar("SELECT count(*) FROM messages") == 0


def test_a_login_in_use_keeps_its_socket_past_its_first_end(
    server: ServerThread, http: httpx.Client, site: Site, clock: ManualClock, clients: list[Live]
) -> None:
    login(http, site, "agent")
    desk = _inbox(server, clients, http, site.website_id)
    ttl = server.rt.settings.login_ttl
    clock.advance(ttl - timedelta(days=1))
    assert http.get("/api/v1/me").status_code == 200  # the inbox in use: pushed forward
    clock.advance(timedelta(days=2))  # past the end the socket was let in with
    still_open(desk)  # read again: the login goes on
    clock.advance(ttl)
    desk.send({"type": "ping"})
    ended(desk, CLOSE_CREDENTIAL_ENDED, "credential_expired")


def test_a_silent_socket_closes_when_its_login_ends(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    site: Site,
    clock: ManualClock,
    clients: list[Live],
) -> None:
    server = start_server(make_settings(login_ttl="1s"))
    with httpx.Client(base_url=server.url) as http:
        login(http, site, "agent")
        desk = _inbox(server, clients, http, site.website_id)
    clock.advance(timedelta(seconds=2))
    # Nothing sent: the timer set at the login's end (a second from now) closes it.
    ended(desk, CLOSE_CREDENTIAL_ENDED, "credential_expired")


def test_removing_an_operator_closes_their_sockets_on_that_website_only(
    server: ServerThread, http: httpx.Client, site: Site, clients: list[Live]
) -> None:
    desk = _agent(server, clients, site.tokens["agent"], site.website_id)
    owner = _agent(server, clients, site.tokens["owner"], site.website_id)
    removed = http.delete(
        f"/api/v1/websites/{site.website_id}/operators/{site.operator_ids['agent']}",
        headers={"Authorization": f"Bearer {site.tokens['owner']}"},
    )
    assert removed.status_code == 204
    ended(desk, CLOSE_ACCESS_REVOKED, "access_revoked")
    # The others still hear the website's events.
    chat, _ = visitor(server.url, open_session(http, site.website_id).json()["token"])
    clients.append(chat)
    chat.send({"type": "message.send", "client_id": "v1", "body": "hello"})
    assert owner.expect("message.created")["message"]["body"] == "hello"


def test_deleting_a_website_closes_its_agent_sockets(
    server: ServerThread, http: httpx.Client, site: Site, clients: list[Live]
) -> None:
    desks = [_agent(server, clients, site.tokens[r], site.website_id) for r in ("owner", "agent")]
    elsewhere = _agent(server, clients, site.tokens["other_owner"], site.other_website_id)
    deleted = http.delete(
        f"/api/v1/websites/{site.website_id}",
        headers={"Authorization": f"Bearer {site.tokens['owner']}"},
    )
    assert deleted.status_code == 200
    for desk in desks:
        ended(desk, CLOSE_ACCESS_REVOKED, "access_revoked")
    still_open(elsewhere)
    # The hub forgets the closed sockets' keys; the other socket's three stay (website, member,
    # token).
    wait_until(
        lambda: server.rt.hub.guarded() == 3,
        PATIENCE,
        lambda: f"{server.rt.hub.guarded()} keys still guarded",
    )


# -- the events: what each revoking action publishes, after its commit only --------------------


def test_each_revoking_action_publishes_access_ended_naming_what_ended(
    harness: Harness, site: Site
) -> None:
    published: list[dict[str, Any]] = []

    def capture(channel: str, frame: dict[str, Any]) -> None:
        if channel == ACCESS_CHANNEL:
            published.append(frame)

    harness.rt.hub.publish = capture  # type: ignore[method-assign]
    rt, website_id = harness.run, site.website_id
    agent_id, owner_id = site.operator_ids["agent"], site.operator_ids["owner"]

    def logged_in(password: str = site.passwords["agent"]) -> Actor:
        done = rt(do_login(harness.rt, "agent@shop.example", password, "10.0.0.1"))
        return Actor("operator", agent_id, login_id=done.login.id)

    first, second, third = logged_in(), logged_in(), logged_in()
    rt(do_logout(harness.rt, first))
    assert published == [
        {"type": "access.ended", "code": "credential_revoked", "keys": [f"login:{first.login_id}"]}
    ]
    rt(do_change_password(harness.rt, second, site.passwords["agent"], "a new long one!"))
    assert published[-1]["keys"] == [f"login:{third.login_id}"]  # not the login that changed it
    password = rt(do_reset_password(harness.rt, Actor.cli(), "agent@shop.example"))
    assert published[-1] == {
        "type": "access.ended",
        "code": "credential_revoked",
        "keys": [f"login:{second.login_id}"],
    }

    async def token_id() -> str:
        async with harness.rt.store.read() as tx:
            return (await tx.api_tokens.list_for_operator(agent_id))[0].id

    token = rt(token_id())
    rt(do_revoke_api_token(harness.rt, logged_in(password), token))
    assert published[-1]["keys"] == [f"token:{token}"]

    owner = Actor("operator", owner_id, frozenset(Scope))
    count = len(published)
    with pytest.raises(NotFound):  # refused, rolled back: nothing published
        rt(do_remove_member(harness.rt, owner, website_id, site.operator_ids["other_owner"]))
    assert len(published) == count
    rt(do_remove_member(harness.rt, owner, website_id, agent_id))
    assert published[-1] == {
        "type": "access.ended",
        "code": "access_revoked",
        "keys": [f"member:{website_id}:{agent_id}"],
    }
    rt(do_delete_website(harness.rt, owner, website_id))
    assert published[-1]["keys"] == [f"website:{website_id}"]
    assert len(published) == count + 2
