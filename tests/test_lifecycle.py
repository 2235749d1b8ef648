"""The life of a session (P15, P17, P18, P20): temporary, permanent, purged, erased, deleted."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from causerie.actions.retention import do_purge
from causerie.clock import ManualClock
from causerie.domain.shield import network_key
from causerie.settings import Settings
from tests.conftest import ORIGIN, Harness, ServerThread, Site
from tests.support import sqlite_files
from tests.test_session_endpoint import open_session, send

VISITOR_IP = "203.0.113.77"
VISITOR_IP6 = "2001:db8:4:5::77"


@pytest.fixture
def proxied(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    harness: Harness,
) -> Iterator[Callable[..., httpx.Client]]:
    """A client whose requests come from VISITOR_IP through a trusted proxy."""
    server = start_server(make_settings(trusted_proxies="127.0.0.1"))
    clients: list[httpx.Client] = []

    def client(ip: str = VISITOR_IP) -> httpx.Client:
        clients.append(
            httpx.Client(base_url=server.url, headers={"X-Forwarded-For": ip}, timeout=10)
        )
        return clients[-1]

    yield client
    for c in clients:
        c.close()


def _purge(harness: Harness, dry_run: bool = False) -> dict[str, int]:
    return harness.run(do_purge(harness.rt, dry_run=dry_run))


def test_p15_temporary_session_destroyed_30_minutes_after_last_access(
    http: httpx.Client, site: Site, clock: ManualClock, harness: Harness
) -> None:
    token = open_session(http, site.website_id).json()["token"]
    clock.advance(timedelta(minutes=20))
    open_session(http, site.website_id, token=token)  # last access moves to t+20
    clock.advance(timedelta(minutes=29))
    assert _purge(harness)["temporary_sessions"] == 0
    assert harness.scalar("SELECT count(*) FROM sessions") == 1
    clock.advance(timedelta(minutes=1))
    assert _purge(harness)["temporary_sessions"] == 1
    assert harness.scalar("SELECT count(*) FROM sessions") == 0


def test_p15_session_turns_permanent_on_first_visitor_message_and_is_not_purged(
    http: httpx.Client, site: Site, clock: ManualClock, harness: Harness
) -> None:
    token = open_session(http, site.website_id).json()["token"]
    response = send(http, token, "Is this in stock?")
    assert response.status_code == 201
    message = response.json()["message"]
    assert message["author"] == "visitor" and message["body"] == "Is this in stock?"
    assert harness.rows("SELECT state FROM sessions") == [("permanent",)]
    clock.advance(timedelta(days=30))
    assert _purge(harness)["temporary_sessions"] == 0
    assert harness.scalar("SELECT count(*) FROM messages") == 1


def test_p15_session_turns_permanent_on_first_operator_message(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    session_id = open_session(http, site.website_id).json()["session"]["id"]
    response = http.post(
        f"/api/v1/sessions/{session_id}/messages",
        json={"client_id": "op-1", "body": "Can I help?"},
        headers={"Authorization": f"Bearer {site.tokens['agent']}"},
    )
    assert response.status_code == 201
    assert response.json()["message"]["operator"] == {
        "id": site.operator_ids["agent"],
        "name": "agent",
    }
    assert harness.rows("SELECT state FROM sessions") == [("permanent",)]


def test_p15_the_server_purges_by_itself(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    site: Site,
    clock: ManualClock,
    harness: Harness,
) -> None:
    server = start_server(make_settings(purge_interval="1s"))
    with httpx.Client(base_url=server.url) as http:
        open_session(http, site.website_id)
    clock.advance(timedelta(minutes=31))
    deadline = time.monotonic() + 10

    # The run is recorded once all its rules have run, just after the sessions are gone.
    def recorded() -> bool:
        counts = [
            c if isinstance(c, dict) else json.loads(c)
            for (c,) in harness.rows("SELECT counts FROM purge_runs")
        ]
        return any(c["temporary_sessions"] == 1 for c in counts)

    while not recorded() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert harness.scalar("SELECT count(*) FROM sessions") == 0
    runs = harness.rows("SELECT dry_run FROM purge_runs")
    assert runs and not runs[0][0]


def test_p6_dry_run_counts_without_removing(
    http: httpx.Client, site: Site, clock: ManualClock, harness: Harness
) -> None:
    for _ in range(3):
        open_session(http, site.website_id)
    clock.advance(timedelta(hours=1))
    assert _purge(harness, dry_run=True)["temporary_sessions"] == 3
    assert harness.scalar("SELECT count(*) FROM sessions") == 3
    assert _purge(harness)["temporary_sessions"] == 3


def test_purge_works_in_bounded_batches(
    http: httpx.Client, site: Site, clock: ManualClock, harness: Harness
) -> None:
    for _ in range(7):
        open_session(http, site.website_id)
    clock.advance(timedelta(hours=1))
    counts = harness.run(do_purge(harness.rt, batch_size=2))
    assert counts["temporary_sessions"] == 7
    assert harness.scalar("SELECT count(*) FROM sessions") == 0


def test_p17_temporary_session_ip_leaves_no_trace_in_the_database_files(
    proxied: Callable[..., httpx.Client], site: Site, clock: ManualClock, harness: Harness
) -> None:
    http = proxied()
    user_agent = "Mozilla/5.0 UniqueAgentMarker/42"
    http.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"page": {"url": "https://shop.example/secret-page-marker", "title": "T"}},
        headers={"Origin": ORIGIN, "User-Agent": user_agent},
    )
    assert harness.rows("SELECT ip, user_agent FROM sessions") == [(VISITOR_IP, user_agent)]
    clock.advance(timedelta(minutes=31))
    assert _purge(harness)["temporary_sessions"] == 1
    assert harness.scalar("SELECT count(*) FROM sessions") == 0
    if not harness.settings.is_sqlite:
        return
    for name, content in sqlite_files(harness.settings.database_url).items():
        for marker in (VISITOR_IP, user_agent, "secret-page-marker"):
            assert marker.encode() not in content, f"{marker} survives in {name}"


def test_p18_chat_ip_is_kept_a_year_then_erased_while_the_conversation_stays(
    proxied: Callable[..., httpx.Client], site: Site, clock: ManualClock, harness: Harness
) -> None:
    http = proxied()
    token = open_session(http, site.website_id).json()["token"]
    send(http, token, "Hello")
    clock.advance(timedelta(days=364))
    assert _purge(harness)["chat_ips"] == 0
    assert harness.scalar("SELECT ip FROM sessions") == VISITOR_IP
    clock.advance(timedelta(days=1))
    assert _purge(harness)["chat_ips"] == 1
    assert harness.rows("SELECT ip, ip_seen_at, state FROM sessions") == [(None, None, "permanent")]
    assert harness.scalar("SELECT count(*) FROM messages") == 1


def test_p18_forever_keeps_the_chat_ip(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    site: Site,
    clock: ManualClock,
    harness: Harness,
) -> None:
    settings = make_settings(trusted_proxies="127.0.0.1", chat_ip_retention="forever")
    server = start_server(settings)
    with httpx.Client(base_url=server.url, headers={"X-Forwarded-For": VISITOR_IP}) as http:
        send(http, open_session(http, site.website_id).json()["token"])
    clock.advance(timedelta(days=3650))
    rt = replace(harness.rt, settings=settings)
    assert harness.run(do_purge(rt))["chat_ips"] == 0
    assert harness.scalar("SELECT ip FROM sessions") == VISITOR_IP


def test_p18_ips_are_aggregated_per_network_and_the_aggregate_outlives_them(
    proxied: Callable[..., httpx.Client], site: Site, clock: ManualClock, harness: Harness
) -> None:
    for ip in ("198.51.100.7", "198.51.100.200"):
        http = proxied(ip)
        send(http, open_session(http, site.website_id).json()["token"])
    http6 = proxied(VISITOR_IP6)
    open_session(http6, site.website_id)
    stats = harness.rows("SELECT network, sessions, messages FROM network_stats ORDER BY network")
    secret = harness.settings.secret_key
    v4, v6 = network_key(secret, "198.51.100.7"), network_key(secret, VISITOR_IP6)
    assert sorted(stats) == sorted([(v4, 2, 2), (v6, 1, 0)])  # keyed hashes, never addresses
    clock.advance(timedelta(days=400))
    _purge(harness)
    assert harness.scalar("SELECT count(*) FROM sessions WHERE ip IS NOT NULL") == 0
    assert harness.scalar("SELECT sum(sessions) FROM network_stats") == 3


def test_resolved_conversations_are_deleted_after_conversation_retention(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    site: Site,
    clock: ManualClock,
    harness: Harness,
) -> None:
    settings = make_settings(conversation_retention="90d")
    server = start_server(settings)
    with httpx.Client(base_url=server.url) as http:
        send(http, open_session(http, site.website_id).json()["token"])
        send(http, open_session(http, site.website_id).json()["token"])
    harness.execute(
        "UPDATE conversations SET state = 'resolved' WHERE id IN "
        "(SELECT id FROM conversations ORDER BY created_at LIMIT 1)"
    )
    rt = replace(harness.rt, settings=settings)
    clock.advance(timedelta(days=91))
    assert harness.run(do_purge(rt))["resolved_conversations"] == 1
    assert harness.scalar("SELECT count(*) FROM conversations") == 1
    assert harness.scalar("SELECT count(*) FROM sessions") == 1
