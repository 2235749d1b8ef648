"""The shield's gate (P18, web/shield_gate.py): once a node has found a network blocked by the
automatic defence, that network's chatbox requests are refused before any route, body or read,
with the same 403 `blocked`, readable by the page (CORS); other networks pass untouched. The
counters stay the truth: the node asks them again every `HOLD_RECHECK`, adding the refusals it
gave meanwhile, and lets the network through once its score is below the block score, on this
node and on another node sharing Redis. Real servers on real sockets; the clock is the test's."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from causerie.actions import shield
from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.models import Actor
from causerie.domain.shield import network_key
from causerie.settings import Settings
from tests.conftest import ORIGIN, Harness, ServerThread
from tests.redis_support import shared_redis_url
from tests.support import wait_until

BOT = "198.51.100.7"
NEIGHBOUR = "198.51.100.200"  # same /24 as BOT
PERSON = "203.0.113.5"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'causerie.db'}"


_clients: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _clients:
        _clients.pop().close()


class Visitor:
    """Chatbox calls through the trusted proxy on loopback, as from `ip`."""

    def __init__(self, server: ServerThread, website_id: str, ip: str) -> None:
        self.http = httpx.Client(base_url=server.url, timeout=10)
        _clients.append(self.http)
        self.website_id = website_id
        self.ip = ip
        self.headers = {"Origin": ORIGIN, "X-Forwarded-For": ip, "User-Agent": "Mozilla/5.0"}

    def load(self, token: str | None = None, **extra: Any) -> httpx.Response:
        body: dict[str, Any] = {"page": {"url": f"{ORIGIN}/"}, **extra}
        if token:
            body["token"] = token
        path = f"/api/widget/v1/websites/{self.website_id}/session"
        return self.http.post(path, json=body, headers=self.headers)

    def raw(self, path: str, content: bytes) -> httpx.Response:
        headers = {**self.headers, "Content-Type": "application/json"}
        return self.http.post(path, content=content, headers=headers)

    def say(self, token: str, n: int) -> httpx.Response:
        return self.http.post(
            "/api/widget/v1/session/messages",
            json={"client_id": f"c{n}", "body": "hello"},
            headers={**self.headers, "Authorization": f"Bearer {token}"},
        )

    def socket_status(self, server: ServerThread) -> int:
        url = server.url.replace("http://", "ws://") + f"/ws/visitor?website_id={self.website_id}"
        try:
            with connect(url, origin=ORIGIN, additional_headers={"X-Forwarded-For": self.ip}):  # type: ignore[arg-type]
                return 101
        except InvalidStatus as refused:
            return refused.response.status_code


@pytest.fixture
def gated(
    make_settings: Callable[..., Settings], clock: ManualClock
) -> Iterator[Callable[..., tuple[list[ServerThread], Harness, str]]]:
    """(nodes, a harness on the same database and counters, website id)."""
    started: list[ServerThread] = []
    harnesses: list[Harness] = []

    def make(nodes: int = 1, **overrides: str) -> tuple[list[ServerThread], Harness, str]:
        settings = make_settings(trusted_proxies="127.0.0.1", **overrides)
        harness = Harness(settings, clock)
        harnesses.append(harness)
        website = harness.run(do_create_website(harness.rt, Actor.cli(), "Shop", [ORIGIN]))
        for _ in range(nodes):
            started.append(ServerThread(settings, clock))
        return started[-nodes:], harness, website.id

    yield make
    for server in started:
        server.stop()
    for harness in harnesses:
        harness.close()


def _block_with_the_honeypot(visitor: Visitor, times: int) -> None:
    """Each load with the field no chatbox fills raises the network's score by 5."""
    for _ in range(times):
        answer = visitor.load(homepage="https://bot.example")
        assert answer.status_code == 403, answer.text


def _refused(answer: httpx.Response) -> bool:
    return answer.status_code == 403 and answer.json()["error"]["code"] == "blocked"


def test_p18_a_network_found_blocked_is_refused_at_the_gate_until_its_score_decays(
    gated: Callable[..., tuple[list[ServerThread], Harness, str]], clock: ManualClock
) -> None:
    (node,), harness, website_id = gated()
    bot, neighbour, person = (Visitor(node, website_id, ip) for ip in (BOT, NEIGHBOUR, PERSON))
    opened = neighbour.load()  # a session of the network, opened before the block
    assert opened.status_code == 201, opened.text
    token = opened.json()["token"]
    mine = person.load().json()["token"]
    network = network_key(node.rt.settings.secret_key, BOT)

    _block_with_the_honeypot(bot, 5)  # 25: blocked for 600 s x log2(25 / 20), about 193 s
    assert network not in node.rt.shield_blocked  # nothing held before a full check refuses
    assert neighbour.load(token).status_code == 200  # a renewal is no new session: let through
    first = bot.load()
    assert _refused(first) and "automated traffic" in first.json()["error"]["message"]
    assert network in node.rt.shield_blocked

    # Held: refused before the body is read (malformed, or naming no website), the renewal of a
    # session opened before the block included; readable by the page.
    for answer in (
        bot.raw(f"/api/widget/v1/websites/{website_id}/session", b"{not json"),
        bot.raw("/api/widget/v1/websites/no-such-website/session", b"{}"),
        neighbour.load(token),
        neighbour.say(token, 1),
    ):
        assert _refused(answer), answer.text
        assert answer.headers["access-control-allow-origin"] == ORIGIN
        assert "try again in" in answer.json()["error"]["message"]
    assert bot.socket_status(node) == 403
    preflight = bot.http.options(
        f"/api/widget/v1/websites/{website_id}/session",
        headers={**bot.headers, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code < 300  # a preflight is no request of the chatbox's
    # Another network passes untouched: its malformed body is its own fault, named.
    malformed = person.raw(f"/api/widget/v1/websites/{website_id}/session", b"{")
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "invalid_json"
    assert person.say(mine, 1).status_code == 201
    assert person.socket_status(node) == 101

    # The refusals at the gate count as each would have (0.1 each), at the next recheck.
    before = harness.run(shield.score_of(node.rt, network))
    clock.advance(shield.HOLD_RECHECK)
    assert _refused(bot.load())
    after = harness.run(shield.score_of(node.rt, network))
    assert after == pytest.approx(before * 0.5 ** (5 / 600) + 0.1 * 6, abs=0.01)

    clock.advance(timedelta(seconds=60))  # still above the block score: held again
    assert _refused(neighbour.load(token))
    clock.advance(timedelta(minutes=5))  # below it (still suspect): through to the full checks
    assert neighbour.load(token).status_code == 200
    assert network not in node.rt.shield_blocked
    assert neighbour.say(token, 2).status_code == 201


def test_p18_each_node_holds_the_blocks_it_finds_and_sees_a_lowered_score_within_the_recheck(
    gated: Callable[..., tuple[list[ServerThread], Harness, str]], clock: ManualClock
) -> None:
    """Two nodes on one database and one Redis. A block found on one node is found by the other
    at its first request of that network (the score is in Redis). A score lowered elsewhere (a
    conversation unmarked as spam on another node) lets the network through at the next
    recheck, `HOLD_RECHECK` at the latest."""
    (one, two), harness, website_id = gated(nodes=2, redis_url=shared_redis_url())
    on_one, on_two = Visitor(one, website_id, BOT), Visitor(two, website_id, BOT)
    network = network_key(one.rt.settings.secret_key, BOT)

    _block_with_the_honeypot(on_one, 5)
    assert _refused(on_one.load())
    assert network in one.rt.shield_blocked and network not in two.rt.shield_blocked
    assert _refused(on_two.load())  # the full check, from Redis
    assert network in two.rt.shield_blocked

    harness.run(shield.raise_score(harness.rt, BOT, -shield.SCORE_SPAM * 2))  # elsewhere
    assert _refused(on_two.load())  # held until the recheck
    clock.advance(shield.HOLD_RECHECK)
    # Below the block score but suspect: a new session must first solve a challenge.
    for visitor in (on_one, on_two):
        answer = visitor.load()
        assert answer.status_code == 429, answer.text
        assert answer.json()["error"]["code"] == "challenge_required"
    assert not one.rt.shield_blocked and not two.rt.shield_blocked


def test_p18_a_score_lowered_on_the_node_itself_lifts_its_hold_at_once(
    gated: Callable[..., tuple[list[ServerThread], Harness, str]],
) -> None:
    (node,), harness, website_id = gated()
    bot = Visitor(node, website_id, BOT)
    _block_with_the_honeypot(bot, 4)  # 20: the block score
    assert _refused(bot.load())
    network = network_key(node.rt.settings.secret_key, BOT)
    assert network in node.rt.shield_blocked
    lowered = harness.run(shield.raise_score(node.rt, BOT, -shield.SCORE_SPAM))
    assert lowered < node.rt.settings.shield_block_score
    assert network not in node.rt.shield_blocked
    assert bot.load().json()["error"]["code"] == "challenge_required"


def test_p9_a_visitor_of_a_held_network_may_still_export_and_erase_their_data(
    gated: Callable[..., tuple[list[ServerThread], Harness, str]],
) -> None:
    (node,), _, website_id = gated()
    bot, neighbour = Visitor(node, website_id, BOT), Visitor(node, website_id, NEIGHBOUR)
    token = neighbour.load().json()["token"]  # opened before the block
    _block_with_the_honeypot(bot, 5)
    assert _refused(bot.load())
    assert network_key(node.rt.settings.secret_key, BOT) in node.rt.shield_blocked
    assert _refused(neighbour.load(token))  # the chatbox itself is refused at the gate...
    # ...but a person's rights over their data pass, with their session's token checked.
    rights = {**neighbour.headers, "Authorization": f"Bearer {token}"}
    exported = neighbour.http.get("/api/widget/v1/session/export", headers=rights)
    assert exported.status_code == 200, exported.text
    withdrawn = neighbour.http.delete("/api/widget/v1/session/consent", headers=rights)
    assert withdrawn.status_code == 200, withdrawn.text
    erased = neighbour.http.delete("/api/widget/v1/session", headers=rights)
    assert erased.status_code == 200, erased.text
    unknown = {**neighbour.headers, "Authorization": "Bearer not-a-session"}
    assert neighbour.http.get("/api/widget/v1/session/export", headers=unknown).status_code == 401


def test_p18_on_a_real_server_a_held_networks_refusal_comes_after_the_pause(
    gated: Callable[..., tuple[list[ServerThread], Harness, str]],
) -> None:
    """The order of refusals and other requests is tested exactly in test_shield_lane.py; here
    the setting reaches the gate of a real server, and the refusal is still the page's to read."""
    (node,), _, website_id = gated(shield_refusal_pause="1s")
    bot, person = Visitor(node, website_id, BOT), Visitor(node, website_id, PERSON)
    _block_with_the_honeypot(bot, 5)  # refused by the route: no pause
    assert _refused(bot.load())  # the full check's refusal, which holds the network
    started = time.monotonic()
    held = bot.load()
    assert time.monotonic() - started >= 1.0
    assert _refused(held) and held.headers["access-control-allow-origin"] == ORIGIN
    assert person.load().status_code == 201


@pytest.mark.parametrize("nodes", [1, 2])
def test_p18_a_flood_from_one_network_is_held_within_seconds_while_an_office_chatting_is_not(
    gated: Callable[..., tuple[list[ServerThread], Harness, str]], clock: ManualClock, nodes: int
) -> None:
    """On real servers (two: one database, one Redis), a session a second from one network,
    each writing at once, the sessions spread over the nodes; beside it, an office behind one
    address where a colleague opens the chatbox every second and writes 5 s later. From the
    flood's third second every node refuses the flooding network; the office never is."""
    redis = {"redis_url": shared_redis_url()} if nodes == 2 else {}
    servers, harness, website_id = gated(nodes=nodes, shield_hasty_delay="2s", **redis)
    network = network_key(servers[0].rt.settings.secret_key, BOT)
    block = servers[0].rt.settings.shield_block_score
    counted = harness.rt if nodes == 2 else servers[0].rt  # Redis, or the node's own counters
    waiting: list[tuple[Visitor, str]] = []  # colleagues who opened the chatbox, and their token
    held_at = None
    for second in range(8):
        node = servers[second % nodes]
        colleague = Visitor(node, website_id, f"203.0.113.{second + 1}")
        opened = colleague.load()
        assert opened.status_code == 201, opened.text
        waiting.append((colleague, opened.json()["token"]))
        if len(waiting) > 5:  # 5 s after opening: a person's first message
            person, token = waiting.pop(0)
            assert person.say(token, 0).status_code == 201
        bot = Visitor(node, website_id, f"198.51.100.{second + 1}")
        answer = bot.load()
        if _refused(answer):
            held_at = second
            break
        assert answer.status_code == 201, answer.text
        clock.advance(timedelta(milliseconds=200))
        assert bot.say(answer.json()["token"], 0).status_code == 201
        if second == 1:  # the second hasty opening: its note runs beside the message
            wait_until(
                lambda: harness.run(shield.score_of(counted, network)) >= block,
                10,
                lambda: "the flooding network was not held",
            )
        clock.advance(timedelta(milliseconds=800))
    assert held_at == 2
    for node in servers:  # every node refuses it, each from the shared score
        assert _refused(Visitor(node, website_id, BOT).load())
    for person, token in waiting:
        assert person.say(token, 0).status_code == 201
