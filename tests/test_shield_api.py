"""The shield over HTTP, on SQLite and PostgreSQL (P18): block rules per website and server-wide
(owner and admin only, audited without their values, with expiry), each kind refusing the
chatbox with 403 `blocked`; "block this visitor", "mark as spam" and "not spam" from a
conversation; and aggregates that hold no address, in the store and in Redis."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import redis

from causerie.actions.retention import do_purge
from causerie.actions.shield import score_of
from causerie.clock import ManualClock
from causerie.domain.shield import network_key
from causerie.settings import Settings
from tests.conftest import ORIGIN, Harness, ServerThread, Site
from tests.live import Live, agent, visitor
from tests.redis_support import own_database
from tests.support import stored_until

PAGE = {"url": f"{ORIGIN}/pricing"}
# Addresses no other test uses, so that a scan of the shared Redis finds only this test's.
V4 = "198.18.77.41"
V6 = "2001:db8:77:5::41"
AGGREGATES_DATABASE = 13  # Redis's database for the aggregates test alone (`own_database`)


class Web:
    def __init__(self, server: ServerThread, site: Site) -> None:
        self.http = httpx.Client(base_url=server.url, timeout=10)
        self.site = site
        self.server = server

    def load(self, ip: str, agent: str = "Mozilla/5.0 Firefox/133", **body: Any) -> httpx.Response:
        return self.http.post(
            f"/api/widget/v1/websites/{self.site.website_id}/session",
            json={"page": PAGE, **body},
            headers={"Origin": ORIGIN, "X-Forwarded-For": ip, "User-Agent": agent},
        )

    def visitor(self, ip: str, **kw: Any) -> tuple[str, str]:
        """A visitor who loads the chatbox and says hello: (token, conversation id)."""
        opened = self.load(ip, **kw)
        assert opened.status_code == 201, opened.text
        token = opened.json()["token"]
        sent = self.say(token, ip)
        assert sent.status_code == 201, sent.text
        return token, sent.json()["message"]["conversation_id"]

    def say(self, token: str, ip: str, n: int = 0) -> httpx.Response:
        return self.http.post(
            "/api/widget/v1/session/messages",
            json={"client_id": f"c{n}", "body": f"hello {n}"},
            headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN, "X-Forwarded-For": ip},
        )

    def api(self, role: str, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.site.tokens[role]}"}
        return self.http.request(method, f"/api/v1{path}", headers=headers, **kw)


@pytest.fixture
def web(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    harness: Harness,
    site: Site,
) -> Iterator[Web]:
    settings = make_settings(trusted_proxies="127.0.0.1", shield_admins="admin@shop.example")
    client = Web(start_server(settings), site)
    yield client
    client.http.close()


def test_p18_block_rules_of_each_kind_refuse_the_chatbox_until_they_expire(
    web: Web, site: Site, harness: Harness, clock: ManualClock
) -> None:
    path = f"/websites/{site.website_id}/blocks"
    rules = {
        "address": "192.0.2.10",
        "network": "198.51.100.0/24",
        "email": "@spam.example",
        "user_agent": "EvilBot*",
    }
    token, _ = web.visitor("203.0.113.5")  # chats before any rule
    made = {}
    for kind, value in rules.items():
        body = {"kind": kind, "value": value, "reason": "abuse"}
        if kind == "user_agent":
            body["expires_at"] = (clock.now() + timedelta(days=1)).isoformat()
        created = web.api("admin", "POST", path, json=body)
        assert created.status_code == 201, created.text
        made[kind] = created.json()["block"]
        assert made[kind]["kind"] == kind and made[kind]["website_id"] == site.website_id
    assert web.api("agent", "POST", path, json=body).status_code == 403
    assert web.api("agent", "GET", path).status_code == 403
    listed = web.api("owner", "GET", path).json()["blocks"]
    assert {b["kind"] for b in listed} == set(rules)

    def refused(response: httpx.Response) -> bool:
        return response.status_code == 403 and response.json()["error"]["code"] == "blocked"

    assert refused(web.load("192.0.2.10"))
    assert web.load("192.0.2.11").status_code == 201
    assert refused(web.load("198.51.100.200"))
    assert refused(web.load("203.0.113.6", agent="EvilBot/2.0 (+https://evil.example)"))
    # An email: the visitor giving it is refused, and so are their next loads and messages.
    profile = web.http.patch(
        "/api/widget/v1/session/profile",
        json={"email": "Joe@SPAM.example"},
        headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN},
    )
    assert refused(profile)
    assert web.http.patch(
        "/api/widget/v1/session/profile",
        json={"email": "joe@fine.example"},
        headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN},
    ).is_success
    # The other website is not concerned.
    other = web.http.post(
        f"/api/widget/v1/websites/{site.other_website_id}/session",
        json={"page": {"url": "https://other.example/"}},
        headers={"Origin": "https://other.example", "X-Forwarded-For": "192.0.2.10"},
    )
    assert other.status_code == 201

    # Audited with kinds and ids, never the value.
    audit = harness.rows(
        "SELECT action, target_id, details FROM audit_log WHERE action LIKE 'block%'"
    )
    assert len(audit) == 4 and not any("192.0.2" in str(row) or "spam" in str(row) for row in audit)

    # Expired, the user-agent rule no longer applies, and the purge deletes it.
    clock.advance(timedelta(days=2))
    assert web.load("203.0.113.6", agent="EvilBot/2.0").status_code in (200, 201)
    assert harness.run(do_purge(harness.rt))["expired_blocks"] == 1
    assert {b["kind"] for b in web.api("owner", "GET", path).json()["blocks"]} == {
        "address",
        "network",
        "email",
    }
    # Removed, a rule is gone at once.
    removed = web.api("owner", "DELETE", f"{path}/{made['address']['id']}")
    assert removed.status_code == 204
    assert web.load("192.0.2.10").status_code == 201
    assert web.api("owner", "DELETE", f"{path}/{made['address']['id']}").status_code == 404
    # Bad input: a clear 422 naming what is wrong, nothing stored.
    for bad, field in (
        ({"kind": "address", "value": "not-an-ip", "reason": "x"}, "value"),
        ({"kind": "network", "value": "300.1.2.0/24", "reason": "x"}, "value"),
        ({"kind": "network", "value": "0.0.0.0/0", "reason": "x"}, "wider than a /8"),
        ({"kind": "network", "value": "2000::/3", "reason": "x"}, "wider than a /16"),
        ({"kind": "colour", "value": "red", "reason": "x"}, "kind"),
        ({"kind": "email", "value": "a@b.example", "reason": "  "}, "reason"),
    ):
        answer = web.api("owner", "POST", path, json=bad)
        assert answer.status_code == 422 and field in answer.text, answer.text
    assert harness.scalar("SELECT count(*) FROM block_rules") == 2


def test_p18_server_wide_rules_are_for_the_shield_admins_and_hold_on_every_website(
    web: Web, site: Site
) -> None:
    body = {"kind": "network", "value": "2001:db8:99::/48", "reason": "botnet"}
    assert web.api("owner", "POST", "/blocks", json=body).json()["error"]["code"] == (
        "not_shield_admin"
    )
    # /me says beforehand who may read the overview, as the overview itself answers; the
    # OpenAPI document declares and explains the field.
    for role, allowed in (("owner", False), ("agent", False), ("admin", True)):
        assert web.api(role, "GET", "/me").json()["shield_admin"] is allowed, role
        assert web.api(role, "GET", "/shield").status_code == (200 if allowed else 403), role
    schema = web.http.get("/api/v1/openapi.json").json()["components"]["schemas"]["MeOut"]
    assert "shield_admin" in schema["required"]
    assert schema["properties"]["shield_admin"]["type"] == "boolean"
    assert "CAUSERIE_SHIELD_ADMINS" in schema["properties"]["shield_admin"]["description"]
    created = web.api("admin", "POST", "/blocks", json=body)  # named in CAUSERIE_SHIELD_ADMINS
    assert created.status_code == 201 and created.json()["block"]["website_id"] is None
    assert web.load("2001:db8:99:1::5").status_code == 403
    other = web.http.post(
        f"/api/widget/v1/websites/{site.other_website_id}/session",
        json={"page": {"url": "https://other.example/"}},
        headers={"Origin": "https://other.example", "X-Forwarded-For": "2001:db8:99:2::7"},
    )
    assert other.status_code == 403
    assert web.api("admin", "GET", "/blocks").json()["blocks"][0]["value"] == "2001:db8:99::/48"
    # A website's own list does not show it, nor may its owner remove it there.
    assert web.api("owner", "GET", f"/websites/{site.website_id}/blocks").json()["blocks"] == []
    rule_id = created.json()["block"]["id"]
    assert web.api("owner", "DELETE", f"/blocks/{rule_id}").status_code == 404
    assert web.api("admin", "DELETE", f"/blocks/{rule_id}").status_code == 204
    assert web.load("2001:db8:99:1::5").status_code == 201


def test_block_this_visitor_and_spam_from_a_conversation(
    web: Web, site: Site, harness: Harness
) -> None:
    token, conversation = web.visitor(V4)
    _, kept = web.visitor("192.0.2.99")
    assert (
        web.api(
            "agent", "POST", f"/conversations/{conversation}/block", json={"reason": "x"}
        ).status_code
        == 403
    )

    # Spam: out of the lists but the spam filter, back with "not spam"; the network's score.
    listed = f"/websites/{site.website_id}/conversations?state=all"
    spam = web.api("agent", "POST", f"/conversations/{conversation}/spam")
    assert spam.json() == {"conversation_id": conversation, "spam": True, "changed": True}
    ids = [c["id"] for c in web.api("agent", "GET", listed).json()["conversations"]]
    assert conversation not in ids and kept in ids
    spam_list = web.api("agent", "GET", f"/websites/{site.website_id}/conversations?state=spam")
    assert [c["id"] for c in spam_list.json()["conversations"]] == [conversation]
    thread = f"/conversations/{conversation}"
    assert web.api("agent", "GET", thread).json()["spam"] is True  # the inbox's Spam folder
    network = network_key(harness.settings.secret_key, V4)
    score = harness.run(_score(web, network))
    assert score == pytest.approx(5.0)
    assert web.api("agent", "DELETE", f"/conversations/{conversation}/spam").json()["changed"]
    ids = [c["id"] for c in web.api("agent", "GET", listed).json()["conversations"]]
    assert conversation in ids
    assert web.api("agent", "GET", thread).json()["spam"] is False
    assert harness.run(_score(web, network)) == 0

    # Block this visitor: their address, never shown to the agent, refused from now on.
    blocked = web.api(
        "admin", "POST", f"/conversations/{conversation}/block", json={"reason": "insults"}
    )
    assert blocked.status_code == 201, blocked.text
    assert blocked.json()["block"]["kind"] == "address"
    refused = web.say(token, V4, 1)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "blocked"
    assert web.load(V4).status_code == 403
    assert web.load("198.18.77.42").status_code == 201  # a neighbour is not blocked
    actions = {row[0] for row in harness.rows("SELECT action FROM audit_log")}
    assert {"conversation.spam", "conversation.not_spam", "block.added"} <= actions


def test_a_spam_mark_reaches_the_teammates_live_and_replays_but_not_the_visitor(
    web: Web, site: Site, harness: Harness, sockets: list[Live]
) -> None:
    """Marking as spam, or not, is a stored `conversation.updated` carrying `spam` on the
    website's stream: a teammate's inbox moves the conversation without a reload."""
    token, conversation = web.visitor(V4)
    url = web.server.url
    teammate, ready = agent(url, site.tokens["owner"], site.website_id)
    shown, _ = visitor(url, token, website_id=site.website_id)
    sockets.extend([teammate, shown])
    start = ready["seq"]
    path = f"/conversations/{conversation}/spam"

    assert web.api("agent", "POST", path).json()["changed"]
    marked = teammate.expect("conversation.updated")
    assert marked["conversation"]["id"] == conversation
    assert marked["conversation"]["spam"] is True
    assert marked["conversation"]["state"] == "open"
    # Marked again: nothing changed, nothing told; then "not spam".
    assert web.api("agent", "POST", path).json()["changed"] is False
    assert web.api("agent", "DELETE", path).json()["changed"]
    unmarked = teammate.expect("conversation.updated")
    assert unmarked["conversation"]["spam"] is False
    assert unmarked["seq"] == marked["seq"] + 1  # nothing between: the repeat told no one

    # The visitor hears nothing of it, and their stream holds nothing of it.
    assert [f for f in shown.barrier() if f["type"] == "conversation.updated"] == []
    told = harness.scalar(
        "SELECT count(*) FROM events WHERE stream = :s AND type = 'conversation.updated'",
        s=f"session:{_session_of(harness, conversation)}",
    )
    assert told == 1  # the conversation's start only

    # A socket resuming from before replays both, in order.
    back, _ = agent(url, site.tokens["agent"], site.website_id, after=start)
    sockets.append(back)
    replayed = [
        f for f in stored_until(back, unmarked["seq"]) if f["type"] == "conversation.updated"
    ]
    assert [(f["seq"], f["conversation"]["spam"]) for f in replayed] == [
        (marked["seq"], True),
        (unmarked["seq"], False),
    ]


def test_every_agent_view_of_a_conversation_carries_spam(
    web: Web, site: Site, sockets: list[Live]
) -> None:
    """`spam` is part of the conversation's shape for agents wherever it is given: the list's
    rows, the thread, every `conversation.updated` (not the spam mark's alone), a replay, and
    the OpenAPI document; never the visitor's."""
    token, conversation = web.visitor(V4)
    url, website = web.server.url, site.website_id
    listed = web.api("agent", "GET", f"/websites/{website}/conversations").json()
    assert [(c["id"], c["spam"]) for c in listed["conversations"]] == [(conversation, False)]
    thread = f"/conversations/{conversation}"
    assert web.api("agent", "GET", thread).json()["conversation"]["spam"] is False

    assert web.api("agent", "POST", f"{thread}/spam").json()["changed"]
    teammate, ready = agent(url, site.tokens["owner"], website)
    shown, _ = visitor(url, token, website_id=website)
    sockets.extend([teammate, shown])
    spam_list = web.api("agent", "GET", f"/websites/{website}/conversations?state=spam").json()
    assert [(c["id"], c["spam"]) for c in spam_list["conversations"]] == [(conversation, True)]
    assert web.api("agent", "GET", thread).json()["conversation"]["spam"] is True

    # A change other than the mark: the teammate's event says the conversation is still spam.
    assert web.api("agent", "POST", f"{thread}/resolve").status_code == 200
    resolved = teammate.expect("conversation.updated")
    assert resolved["conversation"]["state"] == "resolved"
    assert resolved["conversation"]["spam"] is True
    seen_by_visitor = shown.expect("conversation.updated")
    assert seen_by_visitor["conversation"]["state"] == "resolved"
    assert "spam" not in seen_by_visitor["conversation"]
    back, _ = agent(url, site.tokens["agent"], website, after=ready["seq"])
    sockets.append(back)
    replayed = [f for f in stored_until(back, resolved["seq"]) if f["seq"] == resolved["seq"]]
    assert replayed[0]["conversation"]["spam"] is True

    schemas = web.http.get("/api/v1/openapi.json").json()["components"]["schemas"]
    for shape in ("ConversationOut", "SummaryOut"):
        assert schemas[shape]["properties"]["spam"]["type"] == "boolean"
        assert "spam" in schemas[shape]["required"]


def _session_of(harness: Harness, conversation: str) -> str:
    session: str = harness.scalar(
        "SELECT session_id FROM conversations WHERE id = :c", c=conversation
    )
    return session


async def _score(web: Web, network: str) -> float:
    """The network's bot score in the server's counters (in this process: no Redis here)."""
    return await score_of(web.server.rt, network)


@pytest.mark.parametrize("with_redis", [False, True], ids=["store", "redis"])
def test_p18_aggregates_are_keyed_hashes_and_hold_no_address(
    with_redis: bool,
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    harness: Harness,
    site: Site,
) -> None:
    if with_redis == harness.settings.is_sqlite:
        pytest.skip("the store's counts on SQLite, Redis's with PostgreSQL: two runs cover both")
    overrides = {"trusted_proxies": "127.0.0.1", "shield_admins": "owner@shop.example"}
    if with_redis:  # a database of its own: the overview ranks every network Redis holds
        overrides["redis_url"] = own_database(AGGREGATES_DATABASE)
    server = start_server(make_settings(**overrides))
    web = Web(server, site)
    try:
        for ip in (V4, V6):
            web.visitor(ip)
            web.load(ip)
        web.load(V4, homepage="https://bot.example")  # flagged
        overview = web.api("owner", "GET", "/shield")
        assert overview.status_code == 200, overview.text
    finally:
        web.http.close()
    body = overview.json()
    secret = server.rt.settings.secret_key
    by_key = {n["network"]: n for n in body["networks"]}
    v4, v6 = network_key(secret, V4), network_key(secret, V6)
    assert by_key[v4]["counts"]["loads"] == 3 and by_key[v4]["counts"]["sessions"] == 2
    assert by_key[v4]["counts"]["messages"] == 1 and by_key[v4]["counts"]["conversations"] == 1
    assert by_key[v4]["counts"]["flagged"] == 1 and by_key[v6]["counts"]["loads"] == 2
    assert by_key[v6]["label"].startswith("IPv6 /48 #") and by_key[v4]["label"].startswith("IPv4")
    assert sum(hour["loads"] for hour in body["series"]) == 5

    needles = ("198.18.77", "198.18", "2001:db8:77", "2001:0db8:0077")
    # Every row of every table but `sessions` (which keeps the raw IP the law asks for, P18).
    for (table,) in harness.rows(
        "SELECT name FROM sqlite_master WHERE type = 'table'"
        if harness.settings.is_sqlite
        else "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    ):
        if table == "sessions":
            continue
        for row in harness.rows(f'SELECT * FROM "{table}"'):
            assert not any(n in str(row) for n in needles), (table, row)
    if with_redis:
        client = redis.Redis.from_url(overrides["redis_url"])
        try:
            for key in client.scan_iter("causerie:*", count=1000):
                kind = client.type(key)
                values: Any = b""
                if kind == b"string":
                    values = client.get(key)
                elif kind == b"hash":
                    values = client.hgetall(key)
                text = f"{key!r} {values!r}"
                assert not any(n in text for n in needles), text
        finally:
            client.close()
