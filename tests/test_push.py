"""Web Push to agents (docs/notifications.md, "Push"), on SQLite and PostgreSQL: subscriptions
stored and dropped, what triggers a push, and what a push holds. A local HTTP server on loopback
stands in for the push service; each test decrypts what it received (RFC 8291, aes128gcm) with
the private keys of the browser it made up, and checks the VAPID signature (RFC 8292)."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import http_ece  # type: ignore[import-untyped]
import httpx
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02  # type: ignore[import-untyped]

from causerie.actions.accounts import do_change_password, do_login, do_logout
from causerie.actions.api_tokens import do_revoke_api_token
from causerie.actions.inbox import do_assign
from causerie.actions.job_kinds import KINDS
from causerie.actions.jobs import do_run_due_jobs, get_jobs
from causerie.actions.messages import do_send_operator_message, do_send_session_message
from causerie.actions.privacy import do_erase_own_session, get_register
from causerie.actions.push import (
    do_set_push_previews,
    do_subscribe,
    do_unsubscribe,
    get_push_previews,
    get_subscriptions,
)
from causerie.actions.retention import do_purge
from causerie.actions.sessions import do_open_session
from causerie.domain.errors import Invalid, NotFound
from causerie.domain.jobs import JobKind, JobState
from causerie.domain.models import Actor, PageView
from causerie.domain.ports import agent_connection_id
from causerie.domain.push import (
    SUBSCRIPTIONS_MAX,
    PushSubscription,
)
from causerie.push.webpush import WebPushSender
from causerie.settings import Settings
from causerie.tokens import new_id
from tests.conftest import ORIGIN, Harness, Site

SECRET = "the visitor's secret words"
FIREFOX = "Mozilla/5.0 (Android 14; Mobile; rv:130.0) Gecko/130.0 Firefox/130.0"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    # The actions on SQLite; the store's push area runs on both databases (test_push_store.py).
    return f"sqlite:///{tmp_path / 'causerie.db'}"


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    # The push service of these tests listens on loopback over plain http.
    return make_settings(push_allow_private="true")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Browser:
    """A browser's side of a subscription: the keys only it holds."""

    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64(point)

    def decrypt(self, body: bytes) -> dict[str, Any]:
        clear = http_ece.decrypt(
            body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        data: dict[str, Any] = json.loads(clear)
        return data


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class PushService:
    """A push service on 127.0.0.1, in the harness's loop: records each push, answers `status`."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.received: list[Received] = []
        self.status = 201
        app = web.Application()
        app.router.add_post("/push/{id}", self._take)
        self.runner = web.AppRunner(app, access_log=None)
        harness.run(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        harness.run(site.start())
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def _take(self, request: web.Request) -> web.Response:
        self.received.append(Received(request.path, dict(request.headers), await request.read()))
        return web.Response(status=self.status)

    def endpoint(self) -> str:
        return f"{self.url}/push/{new_id()}"

    def close(self) -> None:
        self.harness.run(self.runner.cleanup())


@pytest.fixture
def service(harness: Harness) -> Iterator[PushService]:
    running = PushService(harness)
    yield running
    running.close()


def agent(site: Site, role: str = "agent") -> Actor:
    return Actor("operator", operator_id=site.operator_ids[role])


def subscribe(
    harness: Harness, site: Site, service: PushService, role: str = "agent"
) -> tuple[PushSubscription, Browser]:
    browser = Browser()
    stored = harness.run(
        do_subscribe(
            harness.rt,
            agent(site, role),
            endpoint=service.endpoint(),
            p256dh=browser.p256dh,
            auth=b64(browser.auth),
            user_agent=FIREFOX,
        )
    )
    return stored, browser


def visitor_writes(
    harness: Harness, site: Site, body: str, token: str | None = None
) -> tuple[str, str]:
    """A visitor (new unless `token`) writes `body`; their token and conversation's id."""

    async def run() -> tuple[str, str]:
        opened = await do_open_session(
            harness.rt,
            website_id=site.website_id,
            token=token,
            page=PageView(url=f"{ORIGIN}/"),
            ip="198.51.100.7",
            origin=ORIGIN,
        )
        sent = await do_send_session_message(
            harness.rt, opened.session.id, client_id=new_id(), body=body
        )
        return opened.token, sent.message.conversation_id

    result: tuple[str, str] = harness.run(run())
    return result


def run_jobs(harness: Harness) -> int:
    ran: int = harness.run(do_run_due_jobs(harness.rt, KINDS))
    return ran


def count(harness: Harness, sql: str, **params: Any) -> int:
    value: int = harness.scalar(sql, **params)
    return value


# -- what a push holds ---------------------------------------------------------------------------


def test_a_new_conversation_is_pushed_encrypted_signed_and_without_its_text(
    harness: Harness, site: Site, service: PushService
) -> None:
    stored, browser = subscribe(harness, site, service)
    _, conversation_id = visitor_writes(harness, site, SECRET)

    run_jobs(harness)

    (push,) = [r for r in service.received if stored.endpoint.endswith(r.path)]
    assert push.headers["Content-Encoding"] == "aes128gcm"
    assert SECRET.encode() not in push.body  # encrypted on the wire
    data = browser.decrypt(push.body)
    assert data["type"] == "conversation.new"
    assert data["conversation_id"] == conversation_id
    assert data["url"] == f"/app/#/c/{conversation_id}"
    assert "Shop" in data["title"]
    assert SECRET not in json.dumps(data)  # no previews chosen: no text of the visitor
    # Signed with this installation's VAPID key, for this push service (RFC 8292).
    assert Vapid02.verify(push.headers["Authorization"])
    assert f"k={harness.rt.push.public_key}" in push.headers["Authorization"]
    token = push.headers["Authorization"].split("t=", 1)[1].split(",", 1)[0]
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["aud"] == service.url
    assert int(push.headers["TTL"]) > 0


def test_every_member_is_pushed_a_new_conversation_on_each_of_their_browsers(
    harness: Harness, site: Site, service: PushService
) -> None:
    phone, phone_keys = subscribe(harness, site, service, "agent")
    laptop, laptop_keys = subscribe(harness, site, service, "agent")
    owner, owner_keys = subscribe(harness, site, service, "owner")
    other, _ = subscribe(harness, site, service, "other_owner")  # another website's

    visitor_writes(harness, site, "hello")
    run_jobs(harness)

    got = {r.path: r for r in service.received}
    assert set(got) == {s.endpoint.removeprefix(service.url) for s in (phone, laptop, owner)}
    for sub, keys in ((phone, phone_keys), (laptop, laptop_keys), (owner, owner_keys)):
        assert (
            keys.decrypt(got[sub.endpoint.removeprefix(service.url)].body)["type"]
            == "conversation.new"
        )
    assert other.endpoint.removeprefix(service.url) not in got


def test_previews_put_the_message_text_in_pushes_of_that_agent_only(
    harness: Harness, site: Site, service: PushService
) -> None:
    mine, my_keys = subscribe(harness, site, service, "agent")
    theirs, their_keys = subscribe(harness, site, service, "owner")
    assert harness.run(get_push_previews(harness.rt, agent(site))) is False  # off by default
    harness.run(do_set_push_previews(harness.rt, agent(site), True))

    visitor_writes(harness, site, SECRET)
    run_jobs(harness)

    got = {r.path: r for r in service.received}
    assert my_keys.decrypt(got[mine.endpoint.removeprefix(service.url)].body)["body"] == SECRET
    assert SECRET not in json.dumps(
        their_keys.decrypt(got[theirs.endpoint.removeprefix(service.url)].body)
    )


def test_no_push_of_a_new_conversation_while_an_agent_is_online(
    harness: Harness, site: Site, service: PushService
) -> None:
    subscribe(harness, site, service)
    connection = agent_connection_id(site.operator_ids["owner"], new_id())
    harness.run(harness.rt.presence.set_agent(site.website_id, connection, "online"))

    visitor_writes(harness, site, "hello")
    run_jobs(harness)

    assert service.received == []


def test_a_visitor_message_is_pushed_to_its_assignee_while_they_are_not_connected(
    harness: Harness, site: Site, service: PushService
) -> None:
    stored, browser = subscribe(harness, site, service, "agent")
    owner_sub, _ = subscribe(harness, site, service, "owner")
    harness.run(do_set_push_previews(harness.rt, agent(site), True))
    token, conversation_id = visitor_writes(harness, site, "first")
    run_jobs(harness)
    harness.run(
        do_assign(harness.rt, agent(site, "owner"), conversation_id, site.operator_ids["agent"])
    )
    # The owner is online (so no "new conversation" pushes), the assignee is not connected.
    owner_socket = agent_connection_id(site.operator_ids["owner"], new_id())
    harness.run(harness.rt.presence.set_agent(site.website_id, owner_socket, "online"))
    service.received.clear()

    visitor_writes(harness, site, SECRET, token)
    run_jobs(harness)

    (push,) = service.received
    assert stored.endpoint.endswith(push.path)
    data = browser.decrypt(push.body)
    assert (data["type"], data["body"], data["conversation_id"]) == (
        "message.new",
        SECRET,
        conversation_id,
    )

    # Once the assignee has the inbox open (even away), the inbox tells them instead.
    mine = agent_connection_id(site.operator_ids["agent"], new_id())
    harness.run(harness.rt.presence.set_agent(site.website_id, mine, "away"))
    service.received.clear()
    visitor_writes(harness, site, "again", token)
    run_jobs(harness)
    assert service.received == []
    assert owner_sub.endpoint  # the owner is never pushed a conversation that is not theirs


def test_an_agents_own_reply_pushes_nothing(
    harness: Harness, site: Site, service: PushService
) -> None:
    subscribe(harness, site, service)
    _, conversation_id = visitor_writes(harness, site, "hello")
    run_jobs(harness)
    service.received.clear()

    harness.run(
        do_send_operator_message(
            harness.rt, agent(site), client_id=new_id(), body="hi", conversation_id=conversation_id
        )
    )
    run_jobs(harness)
    assert service.received == []


# -- the credential a browser subscribed with -----------------------------------------------------


def logged_in(harness: Harness, site: Site, password: str | None = None) -> Actor:
    """A new inbox login of the agent, as the login cookie makes it."""
    done = harness.run(
        do_login(harness.rt, "agent@shop.example", password or site.passwords["agent"], "10.0.0.1")
    )
    return Actor("operator", site.operator_ids["agent"], login_id=done.login.id)


def subscribe_as(harness: Harness, actor: Actor, service: PushService) -> PushSubscription:
    stored: PushSubscription = harness.run(
        do_subscribe(
            harness.rt,
            actor,
            endpoint=service.endpoint(),
            p256dh=Browser().p256dh,
            auth=b64(os.urandom(16)),
            user_agent=FIREFOX,
        )
    )
    return stored


def endpoints_of(harness: Harness, site: Site) -> set[str]:
    subscriptions = harness.run(get_subscriptions(harness.rt, agent(site)))
    return {s.endpoint for s in subscriptions}


def test_a_browser_is_pushed_to_only_while_the_login_it_subscribed_with_lasts(
    harness: Harness, site: Site, service: PushService, settings: Settings
) -> None:
    phone = subscribe_as(harness, logged_in(harness, site), service)
    visitor_writes(harness, site, "hello")
    run_jobs(harness)
    assert [r.path for r in service.received] == [phone.endpoint.removeprefix(service.url)]

    # Unused for longer than a login lasts: it expired, though the purge has not run yet.
    harness.clock.advance(settings.login_ttl + timedelta(seconds=1))
    visitor_writes(harness, site, "anyone there?")
    run_jobs(harness)
    assert len(service.received) == 1  # nothing more sent
    assert harness.run(get_jobs(harness.rt)) == []  # and nothing left to retry

    # The purge removes the expired login, and its browser's subscription with it.
    harness.run(do_purge(harness.rt))
    assert endpoints_of(harness, site) == set()


def test_signing_out_or_a_password_change_elsewhere_ends_that_browsers_pushes(
    harness: Harness, site: Site, service: PushService
) -> None:
    first, second, third = (logged_in(harness, site) for _ in range(3))
    one, two, three = (subscribe_as(harness, login, service) for login in (first, second, third))

    harness.run(do_logout(harness.rt, first))
    assert endpoints_of(harness, site) == {two.endpoint, three.endpoint}

    # A password change ends every other login of the agent: the third browser's pushes too.
    harness.run(do_change_password(harness.rt, second, site.passwords["agent"], "a new long one!"))
    assert endpoints_of(harness, site) == {two.endpoint}
    assert one.id and three.id


def test_a_revoked_api_token_ends_the_pushes_it_subscribed(
    harness: Harness, site: Site, service: PushService
) -> None:
    async def token_id() -> str:
        async with harness.rt.store.read() as tx:
            return (await tx.api_tokens.list_for_operator(site.operator_ids["agent"]))[0].id

    token = harness.run(token_id())
    by_token = subscribe_as(
        harness, Actor("operator", site.operator_ids["agent"], token_id=token), service
    )
    by_login = subscribe_as(harness, logged_in(harness, site), service)
    assert endpoints_of(harness, site) == {by_token.endpoint, by_login.endpoint}

    harness.run(do_revoke_api_token(harness.rt, logged_in(harness, site), token))
    assert endpoints_of(harness, site) == {by_login.endpoint}


# -- retries and expiry ---------------------------------------------------------------------------


def test_a_subscription_answered_410_or_404_is_dropped(
    harness: Harness, site: Site, service: PushService
) -> None:
    gone, _ = subscribe(harness, site, service)
    service.status = 410
    visitor_writes(harness, site, "hello")
    run_jobs(harness)

    assert len(service.received) == 1
    assert harness.run(get_subscriptions(harness.rt, agent(site))) == []
    assert harness.run(get_jobs(harness.rt)) == []  # done, not retried

    service.status = 404
    subscribe(harness, site, service)
    visitor_writes(harness, site, "hello again")
    run_jobs(harness)
    assert harness.run(get_subscriptions(harness.rt, agent(site))) == []
    assert gone.id


def test_a_failing_push_service_is_retried_and_the_subscription_kept(
    harness: Harness, site: Site, service: PushService
) -> None:
    stored, browser = subscribe(harness, site, service)
    service.status = 503
    visitor_writes(harness, site, "hello")
    run_jobs(harness)

    (job,) = harness.run(get_jobs(harness.rt))
    assert (job.kind, job.state, job.attempts) == (JobKind.PUSH_SEND, JobState.QUEUED, 1)
    assert "503" in (job.last_error or "")
    assert [s.id for s in harness.run(get_subscriptions(harness.rt, agent(site)))] == [stored.id]

    service.status = 201
    harness.clock.advance(job.run_at - harness.clock.now())
    run_jobs(harness)
    assert harness.run(get_jobs(harness.rt)) == []
    assert browser.decrypt(service.received[-1].body)["type"] == "conversation.new"


def test_an_endpoint_on_a_private_address_is_never_fetched_unless_allowed(
    harness: Harness, site: Site, service: PushService
) -> None:
    strict = WebPushSender(
        harness.settings.secret_key, contact="mailto:a@b.example", allow_private=False
    )
    browser = Browser()
    subscription = PushSubscription(
        "s1", "o1", f"{service.url}/push/x".replace("http:", "https:"), browser.p256dh,
        b64(browser.auth), "Firefox", harness.clock.now(),
    )  # fmt: skip
    outcome = harness.run(strict.send(subscription, b"{}", 60))
    assert outcome.refused and outcome.gone
    assert service.received == []


def test_p9_queued_pushes_about_a_visitor_go_with_their_erasure(
    harness: Harness, site: Site, service: PushService
) -> None:
    subscribe(harness, site, service)
    token, _ = visitor_writes(harness, site, SECRET)
    kinds = lambda: [j.kind for j in harness.run(get_jobs(harness.rt))]  # noqa: E731
    assert kinds() == [JobKind.AGENTS_NOTIFY]  # queued with the session

    harness.run(do_erase_own_session(harness.rt, token, ORIGIN))

    assert JobKind.AGENTS_NOTIFY not in kinds()
    run_jobs(harness)
    assert service.received == []


# -- subscriptions --------------------------------------------------------------------------------


def test_subscriptions_are_each_operators_own(
    harness: Harness, site: Site, service: PushService
) -> None:
    mine, browser = subscribe(harness, site, service, "agent")
    assert mine.device == "Firefox on Android"
    theirs, _ = subscribe(harness, site, service, "owner")

    with pytest.raises(NotFound):
        harness.run(do_unsubscribe(harness.rt, agent(site, "agent"), theirs.id))
    assert [s.id for s in harness.run(get_subscriptions(harness.rt, agent(site)))] == [mine.id]

    # The same browser subscribing again (for whomever) replaces its subscription.
    again = harness.run(
        do_subscribe(
            harness.rt, agent(site, "owner"), endpoint=mine.endpoint, p256dh=browser.p256dh,
            auth=b64(browser.auth), user_agent="",
        )
    )  # fmt: skip
    assert harness.run(get_subscriptions(harness.rt, agent(site))) == []
    owners = harness.run(get_subscriptions(harness.rt, agent(site, "owner")))
    assert {s.id for s in owners} == {theirs.id, again.id}

    harness.run(do_unsubscribe(harness.rt, agent(site, "owner"), again.id))
    assert [s.id for s in harness.run(get_subscriptions(harness.rt, agent(site, "owner")))] == [
        theirs.id
    ]


def test_a_refused_subscription_stores_nothing(harness: Harness, site: Site) -> None:
    browser = Browser()
    with pytest.raises(Invalid):
        harness.run(
            do_subscribe(
                harness.rt, agent(site), endpoint="https://push.example/x", p256dh=browser.p256dh,
                auth=b64(b"short"), user_agent="",
            )
        )  # fmt: skip
    assert count(harness, "SELECT count(*) FROM push_subscriptions") == 0


def test_p2_subscriptions_and_previews_go_with_the_operators_account(
    harness: Harness, site: Site, service: PushService
) -> None:
    subscribe(harness, site, service, "agent")
    harness.run(do_set_push_previews(harness.rt, agent(site), True))
    harness.execute("DELETE FROM operators WHERE id = :o", o=site.operator_ids["agent"])
    assert count(harness, "SELECT count(*) FROM push_subscriptions") == 0
    assert count(harness, "SELECT count(*) FROM push_preferences") == 0


def test_p11_the_register_lists_the_push_services(
    harness: Harness, site: Site, service: PushService
) -> None:
    before = harness.run(get_register(harness.rt, Actor.cli()))
    assert "Web Push services: none" in before
    subscribe(harness, site, service)
    after = harness.run(get_register(harness.rt, Actor.cli()))
    assert "Web Push services of the operators' browsers" in after and "127.0.0.1" in after


def test_the_push_api_over_http(http: httpx.Client, site: Site, harness: Harness) -> None:
    auth = {"Authorization": f"Bearer {site.tokens['agent']}"}
    key = http.get("/api/v1/push/key", headers=auth)
    assert key.status_code == 200 and key.json() == {"public_key": harness.rt.push.public_key}

    browser = Browser()
    sent = {
        "endpoint": "https://push.example/send/abc",
        "keys": {"p256dh": browser.p256dh, "auth": b64(browser.auth)},
        "expirationTime": None,
    }
    made = http.post(
        "/api/v1/push/subscriptions", json=sent, headers={**auth, "User-Agent": FIREFOX}
    )
    assert made.status_code == 201, made.text
    subscription = made.json()["subscription"]
    assert subscription["device"] == "Firefox on Android"
    assert subscription["service"] == "push.example"
    assert "keys" not in subscription and browser.p256dh not in made.text  # keys never served

    listed = http.get("/api/v1/push/subscriptions", headers=auth).json()["subscriptions"]
    assert [s["id"] for s in listed] == [subscription["id"]]

    bad = http.post(
        "/api/v1/push/subscriptions",
        json={**sent, "keys": {"p256dh": "AAAA", "auth": b64(browser.auth)}},
        headers=auth,
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_subscription"
    assert "keys.p256dh" in bad.json()["error"]["message"]

    prefs = http.patch("/api/v1/push/preferences", json={"push_previews": True}, headers=auth)
    assert prefs.json() == {"push_previews": True}
    assert http.get("/api/v1/push/preferences", headers=auth).json() == {"push_previews": True}

    gone = http.delete(f"/api/v1/push/subscriptions/{subscription['id']}", headers=auth)
    assert gone.status_code == 204
    again = http.delete(f"/api/v1/push/subscriptions/{subscription['id']}", headers=auth)
    assert again.status_code == 404 and again.json()["error"]["code"] == "subscription_not_found"


def test_past_twenty_devices_the_oldest_goes(
    harness: Harness, site: Site, service: PushService
) -> None:
    made = []
    for _ in range(SUBSCRIPTIONS_MAX + 1):
        made.append(subscribe(harness, site, service)[0].id)
        harness.clock.advance(timedelta(seconds=1))
    kept = [s.id for s in harness.run(get_subscriptions(harness.rt, agent(site)))]
    assert kept == made[1:]
