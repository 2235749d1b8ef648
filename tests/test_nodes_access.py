"""Access ends on every node (docs/realtime.md "When access ends"): a revocation committed on
node A closes the agent socket it names on node B within a second, through real Redis (and a
conversation deleted on A the visitor's socket on B); and one
published while B's Redis subscription was down closes it when B reconnects, before B's catch-up
delivers anything to it.

Skipped when PostgreSQL or Redis is unreachable, except under CI (`CI` set), where they fail.
"""

from __future__ import annotations

import re
import secrets
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import ORIGIN
from tests.live import PATIENCE, Live, agent, visitor, ws_url
from tests.nodes_support import Cluster, Deployment, SiteAccess, open_visitor_session
from tests.nodes_support import deployment as make_deployment
from tests.redis_support import private_redis, shared_redis_url

pytestmark = pytest.mark.postgres

WITHIN = 1.0  # seconds: from the revoking request's answer on A to the close on B


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    yield from make_deployment(tmp_path_factory.mktemp("nodes-access"), shared_redis_url())


@pytest.fixture
def cluster(deployment: Deployment) -> Iterator[Cluster]:
    started = Cluster(deployment)
    try:
        yield started
    finally:
        started.close()


@dataclass(frozen=True)
class Agent:
    operator_id: str
    email: str
    password: str
    api_token: str


def add_agent(deployment: Deployment, site: SiteAccess) -> Agent:
    """A new operator with the agent role on the site, their one-time password and a token."""
    email = f"agent-{secrets.token_hex(3)}@shop.example"
    output = deployment.cli("operator", "add", email, "--website", site.website_id)
    operator_id = re.search(r"^operator id: (\S+)$", output, re.MULTILINE)
    password = re.search(r"one-time password .*: (\S+)$", output, re.MULTILINE)
    assert operator_id and password, output
    token = deployment.cli("token", "add", email, "--name", "desk").strip()
    return Agent(operator_id.group(1), email, password.group(1), token)


def closed_within(live: Live, close_code: int, error_code: str, since: float) -> float:
    """Seconds from `since` until `live` got its error frame and then its close `close_code`,
    with nothing in between."""
    error = live.expect("error", timeout=PATIENCE)
    with pytest.raises(ConnectionClosed) as closed:
        live.recv()
    elapsed = time.monotonic() - since
    assert error["code"] == error_code, error
    assert closed.value.rcvd is not None and closed.value.rcvd.code == close_code
    return elapsed


def remove(node_url: str, site: SiteAccess, operator_id: str) -> None:
    with httpx.Client(base_url=node_url, timeout=10) as http:
        response = http.delete(
            f"/api/v1/websites/{site.website_id}/operators/{operator_id}",
            headers={"Authorization": f"Bearer {site.api_token}"},
        )
    assert response.status_code == 204, response.text


def created(live: Live) -> list[dict[str, Any]]:
    return [f for f in live.seen if f.get("type") == "message.created"]


def test_removal_on_one_node_closes_the_socket_on_another_within_a_second(
    cluster: Cluster, deployment: Deployment
) -> None:
    site = deployment.new_site()
    desk_agent = add_agent(deployment, site)
    a, b = cluster.start("a", "b")
    desk, _ = agent(b.url, desk_agent.api_token, site.website_id)
    cluster.track(desk)
    owner, _ = agent(b.url, site.api_token, site.website_id)
    cluster.track(owner)
    remove(a.url, site, desk_agent.operator_id)
    elapsed = closed_within(desk, 4003, "access_revoked", time.monotonic())
    print(f"removal on A: socket on B closed {elapsed * 1000:.1f} ms after A answered")
    assert elapsed < WITHIN, f"closed {elapsed:.3f} s after the removal"
    owner.barrier()  # the owner's socket on B goes on


def test_logout_on_one_node_closes_the_login_s_socket_on_another_within_a_second(
    cluster: Cluster, deployment: Deployment
) -> None:
    site = deployment.new_site()
    desk_agent = add_agent(deployment, site)
    a, b = cluster.start("a", "b")
    with httpx.Client(base_url=a.url, timeout=10) as http:
        logged_in = http.post(
            "/api/v1/auth/login", json={"email": desk_agent.email, "password": desk_agent.password}
        )
        assert logged_in.status_code == 200, logged_in.text
        cookie = http.cookies["causerie_login"]
        desk = cluster.track(
            Live(
                ws_url(b.url, "/ws/agent"),
                origin=None,
                headers={"Cookie": f"causerie_login={cookie}"},
            )
        )
        desk.send({"type": "auth", "website_id": site.website_id})
        desk.expect("ready")
        csrf = logged_in.json()["csrf_token"]
        out = http.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 204
    elapsed = closed_within(desk, 4010, "credential_revoked", time.monotonic())
    print(f"logout on A: socket on B closed {elapsed * 1000:.1f} ms after A answered")
    assert elapsed < WITHIN, f"closed {elapsed:.3f} s after the logout"


def test_a_conversation_deleted_on_one_node_closes_its_visitor_s_socket_on_another(
    cluster: Cluster, deployment: Deployment
) -> None:
    site = deployment.new_site()
    a, b = cluster.start("a", "b")
    token, _ = open_visitor_session(a.url, site.website_id)
    with httpx.Client(base_url=a.url, timeout=10) as http:
        sent = http.post(
            "/api/widget/v1/session/messages",
            json={"client_id": "c1", "type": "text", "body": "delete me"},
            headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN},
        )
        assert sent.status_code == 201, sent.text
        chat, _ = visitor(b.url, token)
        cluster.track(chat)
        deleted = http.delete(
            f"/api/v1/conversations/{sent.json()['message']['conversation_id']}",
            headers={"Authorization": f"Bearer {site.api_token}"},
        )
        assert deleted.status_code == 200, deleted.text
    elapsed = closed_within(chat, 4004, "invalid_session", time.monotonic())
    print(f"deletion on A: visitor socket on B closed {elapsed * 1000:.1f} ms after A answered")
    assert elapsed < WITHIN, f"closed {elapsed:.3f} s after the deletion"


def test_a_revocation_lost_in_a_redis_outage_closes_the_socket_when_its_node_reconnects(
    cluster: Cluster, deployment: Deployment, tmp_path: Path
) -> None:
    site = deployment.new_site()
    desk_agent = add_agent(deployment, site)
    redis = private_redis(tmp_path)
    try:
        a, b = cluster.start("a", "b", redis_url=redis.url)
        token, _ = open_visitor_session(a.url, site.website_id)
        desk, _ = agent(b.url, desk_agent.api_token, site.website_id)
        cluster.track(desk)
        desk.barrier()

        redis.stop(signal.SIGKILL)
        remove(a.url, site, desk_agent.operator_id)  # its access.ended is lost
        with httpx.Client(base_url=a.url, timeout=10) as http:
            sent = http.post(
                "/api/widget/v1/session/messages",
                json={"client_id": "while-down", "type": "text", "body": "not for them"},
                headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN},
            )
        assert sent.status_code in (200, 201), sent.text
        redis.start()

        # B reconnects, reads the socket's access again before catching up, and closes it.
        closed_within(desk, 4003, "access_revoked", time.monotonic())
        assert created(desk) == [], "the catch-up reached a socket whose access had ended"
    finally:
        redis.stop()
