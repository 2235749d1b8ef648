"""Every `/api/v1` endpoint x every role x own website / another website, from the route table.

The endpoints are read from the application's route table, not listed here: a new endpoint is
covered without anyone remembering. Each route declares its access level in
`openapi_extra={"x-causerie-access": ...}` (`web/routes.py`); a route without one fails
`test_every_route_declares_its_access_and_is_covered`, and so does a route that takes a body
without an entry in BODIES below.

For each endpoint, every caller (owner, admin, agent of website A; the owner of website B; a
read-only token; a token limited to website A), by API token and by login cookie + CSRF, calls it
on the objects of its own website and on those of the other website:

- allowed by the declared access: the route's status (2xx);
- a role too low: 403 `forbidden`; a token without the scope: 403 `insufficient_scope`;
- an object of a website the caller does not belong to (or that its token does not cover): 404
  with exactly the code a nonexistent id of that kind gets;
- every refused call leaves the database as it was (a digest of its rows, but for the timestamps
  a read legitimately moves: api_tokens.last_used_at, logins.last_seen_at and expires_at).

An allowed call that destroys part of the fixture world (a website, a conversation, an operator,
a login) is followed by a fresh world, so that the next cases find what they need.
"""

from __future__ import annotations

import io
import itertools
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from causerie.actions.blocks import do_add_block_rule
from causerie.actions.labels import do_create_label
from causerie.actions.members import do_invite
from causerie.actions.operators import do_add_operator, do_create_api_token
from causerie.actions.push import do_subscribe
from causerie.actions.replies import do_create_reply
from causerie.actions.teams import do_create_team
from causerie.actions.webhooks import do_create_webhook
from causerie.actions.websites import do_create_website
from causerie.app import create_app
from causerie.clock import ManualClock
from causerie.domain.models import Actor, Role, Scope
from causerie.domain.webhooks import Delivery
from causerie.settings import load_settings
from causerie.store.schema import metadata
from causerie.tokens import hash_token, new_id
from tests.conftest import ORIGIN, OTHER_ORIGIN, Harness, ServerThread, Site

ACCESS_LEVELS = ("public", "login", "agent", "admin", "owner")
RANK = {"agent": 1, "admin": 2, "owner": 3}
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
PAGE = {"url": "https://shop.example/shoes", "title": "Shoes", "referrer": ""}
ID_PATTERN = re.compile(r"[a-z2-7]{24}")

# Routes that an API token may not use at all, whatever its scopes (docs/api.md "Credentials").
# Server-wide shield routes: for the operators CAUSERIE_SHIELD_ADMINS names, none in these tests
# (tests/test_shield_api.py covers them).
SHIELD_ADMIN_ONLY = frozenset(
    {
        ("GET", "/api/v1/blocks"),
        ("POST", "/api/v1/blocks"),
        ("DELETE", "/api/v1/blocks/{block_id}"),
        ("GET", "/api/v1/shield"),
    }
)
# What an allowed call answers when it is not the route's success: the visitors of these tests
# come from loopback, which "block this visitor" refuses to block (it would block everyone).
ALLOWED_ANSWER = {
    ("POST", "/api/v1/conversations/{conversation_id}/block"): (409, "address_not_blockable"),
}

LOGIN_ONLY = frozenset(
    {
        ("POST", "/api/v1/auth/logout"),
        ("POST", "/api/v1/me/password"),
        ("GET", "/api/v1/tokens"),
        ("POST", "/api/v1/tokens"),
        ("DELETE", "/api/v1/tokens/{token_id}"),
    }
)


# The agents' upload route takes a multipart body FastAPI does not see (web/files_api.py): a call
# to it without a body sends a file.
UPLOAD = re.compile(r"/api/v1/conversations/[^/]+/files")
PDF = b"%PDF-1.4\n%%EOF\n"


def _wide_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (400, 8), (9, 9, 9)).save(buffer, "PNG")
    return buffer.getvalue()


WIDE_PNG = _wide_png()


# -- the route table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    access: str | None
    has_body: bool
    status: int  # what the route answers when it succeeds
    params: tuple[str, ...]
    scope: str | None = None  # x-causerie-scope: the token scope it needs, when declared

    @property
    def writes(self) -> bool:
        """Needs the `write` scope: every non-GET route unless it declares it only reads."""
        if self.scope is not None:
            return self.scope == "write"
        return self.method not in SAFE

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _api_routes(routes: list[Any]) -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) of every APIRoute, also those of included routers."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before lazily included routers: a flat table
        for route in routes:
            if isinstance(route, APIRoute):
                yield route.path, route
        return
    for context in iter_route_contexts(routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            yield str(context.path), route


def api_endpoints(routes: list[Any]) -> list[Endpoint]:
    found = []
    for path, route in _api_routes(routes):
        if not path.startswith("/api/v1/"):
            continue
        access = (route.openapi_extra or {}).get("x-causerie-access")
        scope = (route.openapi_extra or {}).get("x-causerie-scope")
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            found.append(
                Endpoint(
                    method=method,
                    path=path,
                    access=access,
                    has_body=route.body_field is not None,
                    status=route.status_code or 200,
                    params=tuple(p.name for p in route.dependant.path_params),
                    scope=scope,
                )
            )
    return found


def _collect() -> list[Endpoint]:
    """The route table at collection time (the same code as every test server's)."""
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            environ={}, data_dir=folder, database_url=f"sqlite:///{folder}/routes.db"
        )
        return api_endpoints(create_app(settings, ManualClock()).routes)


ENDPOINTS = _collect()


# -- the fixture world --------------------------------------------------------------------------


@dataclass
class Side:
    """The objects of one website that path parameters and bodies point at."""

    website_id: str
    session_id: str
    conversation_id: str
    message_id: str
    pending_id: str  # an invited operator who has no password yet
    member_id: str  # an operator of this website, to assign conversations to
    token_id: str  # an API token of this website's owner
    reply_id: str  # a canned reply of this website
    label_id: str  # a label of this website
    file_id: str  # a file the visitor sent
    webhook_id: str = ""  # a webhook of this website
    delivery_id: str = ""  # a delivery of that webhook
    team_id: str = ""  # a team of this website


@dataclass
class World:
    site: Site
    sides: dict[str, Side]  # "A": site.website_id, "B": site.other_website_id
    tokens: dict[str, str]  # caller name -> API token
    emails: dict[str, str]
    passwords: dict[str, str]
    logins: dict[str, tuple[str, str]]  # caller name -> (login cookie, CSRF token)


@dataclass(frozen=True)
class Caller:
    name: str  # owner, admin, agent (of A); outsider (owner of B); reader; limited
    via: str  # "token" or "cookie"
    home: str  # the side whose objects are theirs
    role: str  # their role there
    read_only: bool = False
    limited: bool = False

    def __str__(self) -> str:
        return f"{self.name} by {self.via}"


CALLERS = (
    Caller("owner", "token", "A", "owner"),
    Caller("owner", "cookie", "A", "owner"),
    Caller("admin", "token", "A", "admin"),
    Caller("admin", "cookie", "A", "admin"),
    Caller("agent", "token", "A", "agent"),
    Caller("agent", "cookie", "A", "agent"),
    Caller("outsider", "token", "B", "owner"),
    Caller("outsider", "cookie", "B", "owner"),
    # the owner of A with a token that has only the `read` scope
    Caller("reader", "token", "A", "owner", read_only=True),
    # an owner of A and of B, with a token limited to A: B is not theirs through it
    Caller("limited", "token", "A", "owner", limited=True),
)

_generations = itertools.count(1)
_serial = itertools.count(1)


def _email(role: str, gen: int) -> str:
    return f"{role}@shop.example" if gen == 0 else f"{role}.g{gen}@shop.example"


def make_site(harness: Harness, gen: int) -> Site:
    """What conftest's `site` fixture makes, with emails of their own."""
    rt, cli = harness.rt, Actor.cli()
    website = harness.run(do_create_website(rt, cli, f"Shop {gen}", [ORIGIN]))
    other = harness.run(do_create_website(rt, cli, f"Other {gen}", [OTHER_ORIGIN]))
    tokens, ids, passwords = {}, {}, {}
    for role, website_id in (
        ("owner", website.id),
        ("admin", website.id),
        ("agent", website.id),
        ("other_owner", other.id),
    ):
        email = _email(role, gen)
        added = harness.run(
            do_add_operator(
                rt, cli, email, website_id=website_id, role=Role(role.removeprefix("other_"))
            )
        )
        _, secret = harness.run(
            do_create_api_token(rt, cli, email, name="t", scopes=frozenset(Scope))
        )
        assert added.one_time_password is not None
        tokens[role], ids[role], passwords[role] = (
            secret,
            added.operator.id,
            added.one_time_password,
        )
    return Site(website.id, other.id, tokens, ids, passwords)


class Api:
    """An HTTP client that keeps no cookies: each call says which credential it uses."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        headers: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> httpx.Response:
        kwargs: dict[str, Any] = {"headers": headers or {}}
        if json is not None:
            kwargs["json"] = json
        elif files is not None:
            kwargs["files"] = files
        elif method == "POST" and UPLOAD.fullmatch(path):
            kwargs["files"] = {"file": ("a.pdf", PDF, "application/pdf")}
        try:
            return self.client.request(method, path, **kwargs)
        finally:
            self.client.cookies.clear()

    def login(self, email: str, password: str) -> tuple[str, str]:
        response = self.call(
            "POST", "/api/v1/auth/login", json={"email": email, "password": password}
        )
        assert response.status_code == 200, response.text
        return response.cookies["causerie_login"], response.json()["csrf_token"]

    def visitor(self, website_id: str, origin: str) -> tuple[str, str, str, str]:
        """A permanent visitor session with a conversation, one message and a file, via the
        widget API.

        Returns (session id, conversation id, message id, file id)."""
        opened = self.call(
            "POST",
            f"/api/widget/v1/websites/{website_id}/session",
            json={"page": PAGE},
            headers={"Origin": origin},
        )
        assert opened.status_code == 201, opened.text
        sent = self.call(
            "POST",
            "/api/widget/v1/session/messages",
            json={"client_id": "v1", "type": "text", "body": "Hello, is anyone there?"},
            headers={"Authorization": f"Bearer {opened.json()['token']}", "Origin": origin},
        )
        assert sent.status_code == 201, sent.text
        message = sent.json()["message"]
        uploaded = self.call(
            "POST",
            "/api/widget/v1/session/files",
            headers={"Authorization": f"Bearer {opened.json()['token']}", "Origin": origin},
            files={"file": ("wide.png", WIDE_PNG, "image/png")},  # with a thumbnail
        )
        assert uploaded.status_code == 201, uploaded.text
        file_id = uploaded.json()["message"]["file"]["id"]
        return opened.json()["session"]["id"], message["conversation_id"], message["id"], file_id


def build_world(harness: Harness, api: Api, site: Site | None = None) -> World:
    gen = 0 if site is not None else next(_generations)
    site = site or make_site(harness, gen)
    rt, cli = harness.rt, Actor.cli()
    emails = {
        "owner": _email("owner", gen),
        "admin": _email("admin", gen),
        "agent": _email("agent", gen),
        "outsider": _email("other_owner", gen),
        "limited": _email("both", gen),
    }
    emails["reader"] = emails["owner"]
    passwords = dict(site.passwords)
    passwords["reader"] = site.passwords["owner"]
    passwords["outsider"] = site.passwords["other_owner"]
    tokens = {role: site.tokens[role] for role in ("owner", "admin", "agent")}
    tokens["outsider"] = site.tokens["other_owner"]
    _, tokens["reader"] = harness.run(
        do_create_api_token(rt, cli, emails["owner"], name="r", scopes=frozenset({Scope.READ}))
    )
    # an owner of both websites, whose token made in the inbox covers only A
    both = harness.run(
        do_add_operator(rt, cli, emails["limited"], website_id=site.website_id, role=Role.OWNER)
    )
    harness.run(
        do_add_operator(
            rt, cli, emails["limited"], website_id=site.other_website_id, role=Role.OWNER
        )
    )
    assert both.one_time_password is not None
    passwords["limited"] = both.one_time_password
    cookie, csrf = api.login(emails["limited"], both.one_time_password)
    made = api.call(
        "POST",
        "/api/v1/tokens",
        json={"name": "only A", "scopes": ["read", "write"], "website_ids": [site.website_id]},
        headers={"Cookie": f"causerie_login={cookie}", "X-CSRF-Token": csrf},
    )
    assert made.status_code == 201, made.text
    tokens["limited"] = made.json()["secret"]

    sides = {}
    for side, website_id, origin, owner, member in (
        ("A", site.website_id, ORIGIN, "owner", "agent"),
        ("B", site.other_website_id, OTHER_ORIGIN, "outsider", "outsider"),
    ):
        webhook_id = make_webhook(harness, website_id)
        session_id, conversation_id, message_id, file_id = api.visitor(website_id, origin)
        pending = harness.run(
            do_invite(rt, cli, website_id, f"pending.{side}.g{gen}@shop.example", Role.AGENT)
        )
        owner_id = site.operator_ids["other_owner" if owner == "outsider" else owner]
        token_id = harness.scalar(
            "SELECT id FROM api_tokens WHERE operator_id = :o AND name = 't'", o=owner_id
        )
        sides[side] = Side(
            website_id=website_id,
            session_id=session_id,
            conversation_id=conversation_id,
            message_id=message_id,
            pending_id=pending.member.operator.id,
            member_id=site.operator_ids["other_owner" if member == "outsider" else member],
            token_id=token_id,
            reply_id=_new_reply(harness, website_id),
            label_id=_new_label(harness, website_id),
            file_id=file_id,
            webhook_id=webhook_id,
            delivery_id=delivery_of(harness, webhook_id),
            team_id=_team_of(harness, website_id),
        )
    logins = {
        name: api.login(emails[name], passwords[name])
        for name in ("owner", "admin", "agent", "outsider")
    }
    return World(site, sides, tokens, emails, passwords, logins)


def _new_reply(harness: Harness, website_id: str) -> str:
    reply = harness.run(
        do_create_reply(
            harness.rt, Actor.cli(), website_id, shortcut=f"r{new_id()}", title="Hi", body="Hi!"
        )
    )
    return reply.id


def _new_label(harness: Harness, website_id: str) -> str:
    label = harness.run(
        do_create_label(harness.rt, Actor.cli(), website_id, name=new_id(), color="#123456")
    )
    return label.id


def make_webhook(harness: Harness, website_id: str) -> str:
    """A webhook of the website (to a name that does not resolve: its deliveries wait)."""
    webhook, _ = harness.run(
        do_create_webhook(
            harness.rt,
            Actor.cli(),
            website_id,
            url="https://hooks.invalid/causerie",
            events=["message.created"],
        )
    )
    return webhook.id


def delivery_of(harness: Harness, webhook_id: str) -> str:
    """A delivery of the webhook: its latest, or a new one."""
    found = harness.scalar(
        "SELECT id FROM webhook_deliveries WHERE webhook_id = :w ORDER BY created_at DESC",
        w=webhook_id,
    )
    if found is not None:
        return str(found)

    async def add() -> str:
        delivery = Delivery(
            id=f"msg_{new_id()}",
            webhook_id=webhook_id,
            event_type="message.created",
            body="{}",
            created_at=harness.rt.clock.now(),
        )
        async with harness.rt.store.transaction() as tx:
            await tx.webhooks.insert_deliveries([delivery])
        return delivery.id

    return harness.run(add())


def _team_of(harness: Harness, website_id: str) -> str:
    team = harness.run(do_create_team(harness.rt, Actor.cli(), website_id, name="Support"))
    return team.id


def _side_checks(side: Side) -> list[tuple[str, dict[str, Any]]]:
    """What `repair_world` looks for on one side, in the order `_repair_side` reads it."""
    return [
        (
            "SELECT count(*) FROM conversations c JOIN sessions s ON s.id = c.session_id "
            "WHERE c.id = :c AND s.id = :s",
            {"c": side.conversation_id, "s": side.session_id},
        ),
        (
            "SELECT count(*) FROM memberships WHERE website_id = :w AND operator_id = :o",
            {"w": side.website_id, "o": side.pending_id},
        ),
        ("SELECT count(*) FROM canned_replies WHERE id = :i", {"i": side.reply_id}),
        ("SELECT count(*) FROM labels WHERE id = :i", {"i": side.label_id}),
        ("SELECT count(*) FROM teams WHERE id = :i", {"i": side.team_id}),
        ("SELECT count(*) FROM webhooks WHERE id = :w", {"w": side.webhook_id}),
        (
            "SELECT id FROM webhook_deliveries WHERE webhook_id = :w ORDER BY created_at DESC",
            {"w": side.webhook_id},
        ),
    ]


def _repair_side(
    harness: Harness, api: Api, side: Side, origin: str, found: list[list[tuple[Any, ...]]]
) -> None:
    conversation, pending, reply, label, team, webhook, deliveries = (
        rows[0][0] if rows else None for rows in found
    )
    if conversation != 1:
        side.session_id, side.conversation_id, side.message_id, side.file_id = api.visitor(
            side.website_id, origin
        )
    if pending != 1:
        invited = harness.run(
            do_invite(
                harness.rt, Actor.cli(), side.website_id, f"p{new_id()}@x.example", Role.AGENT
            )
        )
        side.pending_id = invited.member.operator.id
    for count, attribute, make in (
        (reply, "reply_id", _new_reply),
        (label, "label_id", _new_label),
        (team, "team_id", _team_of),
    ):
        if not count:
            setattr(side, attribute, make(harness, side.website_id))
    if webhook != 1:
        side.webhook_id = make_webhook(harness, side.website_id)
        deliveries = None
    side.delivery_id = str(deliveries) if deliveries else delivery_of(harness, side.webhook_id)


def repair_world(harness: Harness, api: Api, world: World) -> World:
    """Recreate what an allowed call destroyed: a visitor's conversation, a pending operator, a
    login; a whole new world when a website is gone. What is left is read in one transaction
    (it runs after every allowed write: one query each was a third of the module's time)."""
    checks = [
        (
            "SELECT id FROM websites WHERE id IN (:a, :b)",
            {"a": world.sides["A"].website_id, "b": world.sides["B"].website_id},
        ),
        ("SELECT token_hash FROM logins", {}),
    ]
    per_side = {name: _side_checks(side) for name, side in world.sides.items()}
    found = harness.reads(*checks, *(check for side in per_side.values() for check in side))
    websites, logins, rest = found[0], found[1], found[2:]
    if len(websites) < 2:
        return build_world(harness, api)
    for name, side in world.sides.items():
        count = len(per_side[name])
        _repair_side(harness, api, side, ORIGIN if name == "A" else OTHER_ORIGIN, rest[:count])
        rest = rest[count:]
    stored = {row[0] for row in logins}
    for name, (cookie, _) in list(world.logins.items()):
        if hash_token(cookie) not in stored:
            world.logins[name] = api.login(world.emails[name], world.passwords[name])
    return world


# -- what must not change -----------------------------------------------------------------------

SNAPSHOT_TABLES = (
    "websites",
    "teams",
    "team_members",
    "memberships",
    "operators",
    "sessions",
    "conversations",
    "messages",
    "files",
    "api_tokens",
    "logins",
    "account_links",
    "audit_log",
    "streams",
    "events",
    "canned_replies",
    "labels",
    "webhooks",
)
# timestamps that a read legitimately moves, and a webhook's failures (its deliveries are
# attempted by the server meanwhile)
VOLATILE = {
    "api_tokens": {"last_used_at"},
    "logins": {"last_seen_at", "expires_at"},
    "webhooks": {"failing_since"},
}


def snapshot(harness: Harness) -> dict[str, list[str]]:
    from sqlalchemy import text

    queries = {}
    for name in SNAPSHOT_TABLES:
        columns = [
            c.name for c in metadata.tables[name].columns if c.name not in VOLATILE.get(name, ())
        ]
        queries[name] = text(f"SELECT {', '.join(columns)} FROM {name}")

    async def read() -> dict[str, list[str]]:
        rows = {}
        async with harness.rt.store.transaction() as tx:
            for name, query in queries.items():
                result = await tx.db.execute(query)  # type: ignore[attr-defined]
                rows[name] = sorted(repr(tuple(row)) for row in result)
        return rows

    return harness.run(read())


def changes(before: dict[str, list[str]], after: dict[str, list[str]]) -> dict[str, object]:
    found: dict[str, object] = {}
    for name in SNAPSHOT_TABLES:
        if before[name] != after[name]:
            gone = sorted(set(before[name]) - set(after[name]))
            new = sorted(set(after[name]) - set(before[name]))
            found[name] = {"before": gone, "after": new}
    return found


# -- requests -----------------------------------------------------------------------------------


@dataclass
class Case:
    """One call: who, on which website's objects, and the world it runs in."""

    world: World
    caller: Caller
    own: bool  # the objects of the caller's own website, or of the other one
    harness: Harness
    serial: int = field(default_factory=lambda: next(_serial))
    setup_wrote: bool = False  # making the case's objects wrote to the database
    unknown: Side | None = None  # ids that name nothing, instead of a website's objects

    @property
    def side(self) -> Side:
        if self.unknown is not None:
            return self.unknown
        home = self.caller.home
        return self.world.sides[home if self.own else ("B" if home == "A" else "A")]

    @property
    def operator_name(self) -> str:
        """The caller's name in conftest's `site`."""
        names = {"outsider": "other_owner", "reader": "owner"}
        return names.get(self.caller.name, self.caller.name)


def _fresh_token_of_caller(case: Case) -> str:
    case.setup_wrote = True
    email = case.world.emails[case.caller.name]
    token, _ = case.harness.run(
        do_create_api_token(case.harness.rt, Actor.cli(), email, name="x", scopes=frozenset(Scope))
    )
    return token.id


# A browser's public key for push subscriptions (an uncompressed P-256 point).
PUSH_KEY = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"


def _fresh_subscription(case: Case) -> str:
    """A push subscription of the caller (own) or of a member of the other website."""
    if case.unknown is not None:
        return case.unknown.token_id  # an id that names nothing
    case.setup_wrote = True
    if case.own:
        email = case.world.emails[case.caller.name]
        operator_id = case.harness.scalar("SELECT id FROM operators WHERE email = :e", e=email)
    else:
        operator_id = case.side.member_id
    subscription = case.harness.run(
        do_subscribe(
            case.harness.rt,
            Actor("operator", operator_id=operator_id),
            endpoint=f"https://push.example/{new_id()}",
            p256dh=PUSH_KEY,
            auth="tBHItJI5svbpez7KI4CCXg",
            user_agent="",
        )
    )
    return subscription.id


def _fresh_block_rule(case: Case) -> str:
    """A rule on the side's website that blocks no one the tests send (they are not EvilBot)."""
    if case.unknown is not None:
        return case.unknown.website_id  # an id that names nothing
    case.setup_wrote = True
    rule = case.harness.run(
        do_add_block_rule(
            case.harness.rt,
            Actor.cli(),
            case.side.website_id,
            kind="user_agent",
            value="EvilBot",
            reason="roles test",
        )
    )
    return rule.id


PATH_VALUES: dict[str, Callable[[Case], str]] = {
    "block_id": _fresh_block_rule,
    "website_id": lambda c: c.side.website_id,
    "conversation_id": lambda c: c.side.conversation_id,
    "session_id": lambda c: c.side.session_id,
    "file_id": lambda c: c.side.file_id,
    "operator_id": lambda c: c.side.pending_id,
    "team_id": lambda c: c.side.team_id,
    # one's own token (a fresh one: revoking it consumes it), or one of the other website's owner
    "token_id": lambda c: _fresh_token_of_caller(c) if c.own else c.side.token_id,
    "reply_id": lambda c: c.side.reply_id,
    "label_id": lambda c: c.side.label_id,
    "subscription_id": _fresh_subscription,
    "webhook_id": lambda c: c.side.webhook_id,
    "delivery_id": lambda c: c.side.delivery_id,
}

# Routes without a path parameter whose body names an object of a website: they run on both
# websites' objects too.
BODY_TARGETS = frozenset(
    {
        ("POST", "/api/v1/privacy/search"),
        ("POST", "/api/v1/privacy/export"),
        ("POST", "/api/v1/privacy/erase"),
    }
)


def _dpa_version() -> str:
    from causerie.domain.privacy import DPA_VERSION

    return DPA_VERSION


Body = Callable[[Case], dict[str, object]]

BODIES: dict[tuple[str, str], Body] = {
    ("POST", "/api/v1/websites/{website_id}/blocks"): lambda c: {
        "kind": "user_agent",
        "value": f"EvilBot/{c.serial}",
        "reason": "roles test",
    },
    ("POST", "/api/v1/blocks"): lambda c: {
        "kind": "user_agent",
        "value": f"EvilBot/{c.serial}",
        "reason": "roles test",
    },
    ("POST", "/api/v1/conversations/{conversation_id}/block"): lambda c: {"reason": "spam"},
    ("POST", "/api/v1/auth/login"): lambda c: {
        "email": c.world.emails["owner"],
        "password": c.world.passwords["owner"],
    },
    ("POST", "/api/v1/auth/link"): lambda c: {"token": "not-a-link"},
    ("POST", "/api/v1/auth/accept"): lambda c: {
        "token": "not-a-link",
        "name": "Eve",
        "password": "a long enough password",
    },
    ("PATCH", "/api/v1/me"): lambda c: {"name": f"Renamed {c.serial}"},
    # the same password again: a real change that the next cases survive
    ("POST", "/api/v1/me/password"): lambda c: {
        "current_password": c.world.passwords[c.caller.name],
        "new_password": c.world.passwords[c.caller.name],
    },
    ("POST", "/api/v1/websites"): lambda c: {
        "name": f"New {c.serial}",
        "origins": ["https://new.example"],
    },
    ("PATCH", "/api/v1/websites/{website_id}"): lambda c: {
        "name": f"Renamed {c.serial}",
        "settings": {"greeting": f"Hello {c.serial}"},
    },
    ("POST", "/api/v1/websites/{website_id}/operators"): lambda c: {
        "email": f"invitee{c.serial}@shop.example",
        "role": "agent",
    },
    ("PATCH", "/api/v1/websites/{website_id}/operators/{operator_id}"): lambda c: {
        "role": "admin" if c.serial % 2 else "agent"
    },
    ("POST", "/api/v1/conversations/{conversation_id}/messages"): lambda c: {
        "client_id": f"c{c.serial}",
        "type": "text",
        "body": f"Reply {c.serial}",
    },
    ("POST", "/api/v1/conversations/{conversation_id}/assign"): lambda c: {
        "operator_id": c.side.member_id
    },
    ("POST", "/api/v1/conversations/{conversation_id}/transfer"): lambda c: {
        "team_id": c.side.team_id
    },
    ("POST", "/api/v1/websites/{website_id}/teams"): lambda c: {
        "name": f"Team {c.serial}",
        "members": [c.side.member_id],
    },
    ("PATCH", "/api/v1/websites/{website_id}/teams/{team_id}"): lambda c: {
        "capacity": 1 + c.serial % 5
    },
    ("POST", "/api/v1/conversations/{conversation_id}/read"): lambda c: {
        "up_to": c.side.message_id
    },
    ("PATCH", "/api/v1/sessions/{session_id}/profile"): lambda c: {
        "nickname": f"Ada {c.serial}",
        "data": {"plan": "pro"},
    },
    ("POST", "/api/v1/sessions/{session_id}/messages"): lambda c: {
        "client_id": f"s{c.serial}",
        "type": "note",
        "body": f"Note {c.serial}",
    },
    ("POST", "/api/v1/tokens"): lambda c: {"name": f"made {c.serial}", "scopes": ["read"]},
    ("POST", "/api/v1/privacy/search"): lambda c: {"session_id": c.side.session_id},
    ("POST", "/api/v1/privacy/export"): lambda c: {"session_id": c.side.session_id},
    ("POST", "/api/v1/privacy/erase"): lambda c: {"session_id": c.side.session_id},
    ("POST", "/api/v1/websites/{website_id}/dpa"): lambda c: {"version": _dpa_version()},
    ("POST", "/api/v1/websites/{website_id}/replies"): lambda c: {
        "shortcut": f"s{c.serial}",
        "title": "Hello",
        "body": "Hi {visitor_name}",
    },
    ("PATCH", "/api/v1/websites/{website_id}/replies/{reply_id}"): lambda c: {
        "title": f"Title {c.serial}"
    },
    ("POST", "/api/v1/websites/{website_id}/labels"): lambda c: {
        "name": f"Label {c.serial}",
        "color": "#abcdef",
    },
    ("PATCH", "/api/v1/websites/{website_id}/labels/{label_id}"): lambda c: {
        "name": f"Renamed {c.serial}"
    },
    ("PUT", "/api/v1/conversations/{conversation_id}/labels"): lambda c: {
        "labels": [c.side.label_id] if c.serial % 2 else []
    },
    ("POST", "/api/v1/push/subscriptions"): lambda c: {
        "endpoint": f"https://push.example/{c.serial}",
        "keys": {
            "p256dh": PUSH_KEY,
            "auth": "tBHItJI5svbpez7KI4CCXg",
        },
        "expirationTime": None,
    },
    ("PATCH", "/api/v1/push/preferences"): lambda c: {"push_previews": c.serial % 2 == 0},
    ("POST", "/api/v1/websites/{website_id}/webhooks"): lambda c: {
        "url": f"https://hooks{c.serial}.invalid/",
        "events": ["message.created"],
    },
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): lambda c: {
        "events": ["message.created", "conversation.created"],
    },
}


def credentials(world: World, caller: Caller) -> dict[str, str]:
    if caller.via == "token":
        return {"Authorization": f"Bearer {world.tokens[caller.name]}"}
    cookie, csrf = world.logins[caller.name]
    return {"Cookie": f"causerie_login={cookie}", "X-CSRF-Token": csrf}


def url_of(endpoint: Endpoint, values: dict[str, str]) -> str:
    return endpoint.path.format(**values)


def path_values(endpoint: Endpoint, case: Case) -> dict[str, str]:
    values = {}
    for name in endpoint.params:
        if name not in PATH_VALUES:
            pytest.fail(
                f"{endpoint}: no value for the path parameter {name!r}; "
                "add it to PATH_VALUES in tests/test_api_roles.py"
            )
        values[name] = PATH_VALUES[name](case)
    return values


def body_of(endpoint: Endpoint, case: Case) -> dict[str, object] | None:
    if not endpoint.has_body:
        return None
    if endpoint.key not in BODIES:
        pytest.fail(
            f"{endpoint} takes a body and has no entry in BODIES of tests/test_api_roles.py"
        )
    return BODIES[endpoint.key](case)


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"}, response.text
    assert set(body["error"]) == {"code", "message"}, response.text
    code: str = body["error"]["code"]
    return code


@dataclass(frozen=True)
class Expected:
    status: int  # 0: the answer that ids naming nothing get
    code: str | None = None


LIKE_UNKNOWN = Expected(0)


def expected(endpoint: Endpoint, caller: Caller, own: bool) -> Expected:
    writes = endpoint.writes
    if endpoint.key in SHIELD_ADMIN_ONLY:
        return LIKE_UNKNOWN if endpoint.params else Expected(403, "not_shield_admin")
    if endpoint.access == "login":
        if caller.via == "token" and endpoint.key in LOGIN_ONLY:
            return Expected(403, "login_required")
        if caller.read_only and writes:
            return Expected(403, "insufficient_scope")
        if caller.limited and endpoint.key == ("POST", "/api/v1/websites"):
            return Expected(403, "forbidden")
        if not own:
            return LIKE_UNKNOWN
        return Expected(endpoint.status)
    assert endpoint.access in RANK
    if not own:
        return LIKE_UNKNOWN
    if caller.read_only and writes:
        return Expected(403, "insufficient_scope")
    if RANK[caller.role] < RANK[endpoint.access]:
        return Expected(403, "forbidden")
    if endpoint.key in ALLOWED_ANSWER:
        return Expected(*ALLOWED_ANSWER[endpoint.key])
    return Expected(endpoint.status)


# -- the tests ----------------------------------------------------------------------------------


@pytest.fixture
def api(http: httpx.Client) -> Api:
    return Api(http)


def test_every_route_declares_its_access_and_is_covered() -> None:
    """A fresh application's route table (each test server's is compared with it)."""
    endpoints = _collect()
    assert endpoints, "no /api/v1 route found in the route table"
    undeclared = [str(e) for e in endpoints if e.access is None]
    assert not undeclared, f"routes without openapi_extra x-causerie-access: {undeclared}"
    unknown = [f"{e}: {e.access!r}" for e in endpoints if e.access not in ACCESS_LEVELS]
    assert not unknown, f"unknown access levels: {unknown}"
    without_body = [str(e) for e in endpoints if e.has_body and e.key not in BODIES]
    assert not without_body, f"add a request body to BODIES for: {without_body}"
    stale = sorted(set(BODIES) - {e.key for e in endpoints})
    assert not stale, f"BODIES names routes that no longer exist: {stale}"
    params = {p for e in endpoints for p in e.params}
    assert params <= set(PATH_VALUES), f"add to PATH_VALUES: {params - set(PATH_VALUES)}"
    for name, keys in (("LOGIN_ONLY", LOGIN_ONLY), ("BODY_TARGETS", BODY_TARGETS)):
        gone = keys - {e.key for e in endpoints}
        assert not gone, f"{name} names routes that no longer exist: {gone}"


def family_of(endpoint: Endpoint) -> str:
    """`websites` for /api/v1/websites/...: the cases run one family per server."""
    return endpoint.path.split("/")[3]


FAMILIES = sorted({family_of(e) for e in ENDPOINTS})


@pytest.mark.parametrize("family", FAMILIES)
def test_every_endpoint_for_every_role_and_website(
    family: str, server: ServerThread, harness: Harness, site: Site, api: Api
) -> None:
    endpoints = [e for e in api_endpoints(server.app.routes) if family_of(e) == family]
    assert [e.key for e in endpoints] == [e.key for e in ENDPOINTS if family_of(e) == family]
    world = build_world(harness, api, site)
    failures: list[str] = []
    for endpoint in endpoints:
        world = check_endpoint(endpoint, world, harness, api, failures)
    assert not failures, "\n".join(failures)


@dataclass
class Call:
    what: str
    method: str
    url: str
    body: dict[str, object] | None
    headers: dict[str, str]
    want: Expected
    foreign: Side | None = None  # the other website's objects, when it names them


def check_endpoint(
    endpoint: Endpoint, world: World, harness: Harness, api: Api, failures: list[str]
) -> World:
    """Every caller on both websites' objects; adds what is wrong to `failures`. Returns the
    world, repaired if an allowed call destroyed part of it.

    The calls that must be refused run first, as one batch between two snapshots of the
    database (refused calls change nothing, so their order does not matter); then the allowed
    ones, each followed by a repair of what it destroyed."""
    if endpoint.access not in ACCESS_LEVELS:
        failures.append(f"{endpoint} declares no valid x-causerie-access: {endpoint.access!r}")
        return world

    if endpoint.access == "public":
        case = Case(world, CALLERS[0], True, harness)
        response = api.call(
            endpoint.method,
            url_of(endpoint, path_values(endpoint, case)),
            json=body_of(endpoint, case),
        )
        if response.status_code == 401 or response.status_code >= 500:
            failures.append(f"{endpoint} without credential -> {response.text}")
        return world

    def run(call: Call) -> httpx.Response:
        response = api.call(call.method, call.url, json=call.body, headers=call.headers)
        got = response.status_code
        code = error_code(response) if got >= 400 else None
        if (got, code) != (call.want.status, call.want.code):
            failures.append(
                f"{call.what} -> {got} {response.text}, expected {call.want.status} "
                f"{call.want.code}"
            )
        elif got < 400 and call.foreign is not None:
            # answered like ids that name nothing: nothing of the other website may show
            side = call.foreign
            ids = (side.session_id, side.conversation_id, side.message_id)
            shown = [v for v in ids if v in response.text]
            if shown:
                failures.append(f"{call.what} -> {got} shows {shown}: {response.text}")
        return response

    def batch(calls: list[Call]) -> bool:
        """Run calls that must all be refused; False when the world may have changed."""
        before = snapshot(harness)
        statuses = [run(call).status_code for call in calls]
        found = changes(before, snapshot(harness))
        if found:
            # the calls that were not refused, if any, else every call of the batch
            culprits = [c for c, s in zip(calls, statuses, strict=True) if s < 400 or s >= 500]
            names = "\n    ".join(c.what for c in culprits or calls)
            failures.append(f"one of these refused calls changed {found}:\n    {names}")
        return not found and all(400 <= s < 500 for s in statuses)

    # ids of each kind that name nothing: the answer an outsider must get too
    targets: tuple[bool, ...] = (True,)
    unknown: Expected | None = None
    if endpoint.params or endpoint.key in BODY_TARGETS:
        targets = (True, False)
        # the owner, by cookie when a token may not use the route
        asker = CALLERS[1] if endpoint.key in LOGIN_ONLY else CALLERS[0]
        nothing = Side(*(new_id() for _ in fields(Side)))
        case = Case(world, asker, False, harness, unknown=nothing)
        before = snapshot(harness)
        response = api.call(
            endpoint.method,
            url_of(endpoint, path_values(endpoint, case)),
            json=body_of(endpoint, case),
            headers=credentials(world, asker),
        )
        got = response.status_code
        if got >= 500 or (endpoint.params and got != 404):
            failures.append(f"{endpoint} with unknown ids -> {got} {response.text}, expected 404")
            return repair_world(harness, api, world)
        unknown = Expected(got, error_code(response) if got >= 400 else None)
        if got >= 400 and (found := changes(before, snapshot(harness))):
            failures.append(f"{endpoint} with unknown ids changed {found}")

    refused: list[Call] = []
    allowed: list[tuple[Caller, bool]] = []
    for caller, own in itertools.product(CALLERS, targets):
        want = expected(endpoint, caller, own)
        if want == LIKE_UNKNOWN:
            assert unknown is not None
            want = unknown
        if want.status < 400:
            allowed.append((caller, own))
            continue
        case = Case(world, caller, own, harness)
        url = url_of(endpoint, path_values(endpoint, case))
        where = "its own" if own else "the other"
        refused.append(
            Call(
                f"{caller} on {where} website: {endpoint.method} {url}",
                endpoint.method,
                url,
                body_of(endpoint, case),
                credentials(world, caller),
                want,
                None if own else case.side,
            )
        )
    # no credential at all; the cookie without its CSRF token
    case = Case(world, CALLERS[0], True, harness)
    url = url_of(endpoint, path_values(endpoint, case))
    body = body_of(endpoint, case)
    anonymous = Expected(401, "unauthenticated")
    refused.append(Call(f"no credential: {url}", endpoint.method, url, body, {}, anonymous))
    if endpoint.method not in SAFE:
        cookie = {"Cookie": f"causerie_login={world.logins['owner'][0]}"}
        forged = Expected(403, "csrf_failed")
        refused.append(Call(f"no CSRF token: {url}", endpoint.method, url, body, cookie, forged))
    if not batch(refused):
        world = repair_world(harness, api, world)

    for caller, own in allowed:
        case = Case(world, caller, own, harness)
        url = url_of(endpoint, path_values(endpoint, case))
        want = expected(endpoint, caller, own)
        if want == LIKE_UNKNOWN:
            assert unknown is not None
            want = unknown
        where = "its own" if own else "the other"
        run(
            Call(
                f"{caller} on {where} website: {endpoint.method} {url}",
                endpoint.method,
                url,
                body_of(endpoint, case),
                credentials(world, caller),
                want,
                None if own else case.side,
            )
        )
        if endpoint.method not in SAFE:
            world = repair_world(harness, api, world)
    return world


# -- ids that arrive in a body or a second path parameter ---------------------------------------


def _refused_like_unknown(
    api: Api,
    harness: Harness,
    method: str,
    foreign: tuple[str, object],
    unknown: tuple[str, object],
    headers: dict[str, str],
) -> str:
    before = snapshot(harness)
    answers = []
    for url, body in (foreign, unknown):
        response = api.call(method, url, json=body, headers=headers)
        assert response.status_code == 404, f"{method} {url} {body}: {response.text}"
        answers.append(error_code(response))
    assert answers[0] == answers[1], answers
    assert changes(before, snapshot(harness)) == {}
    return answers[0]


def test_ids_of_another_website_in_a_body_or_path_are_not_found(
    server: ServerThread, harness: Harness, site: Site, api: Api
) -> None:
    world = build_world(harness, api, site)
    a, b = world.sides["A"], world.sides["B"]
    owner = credentials(world, CALLERS[0])
    conversation = f"/api/v1/conversations/{a.conversation_id}"
    assert (
        _refused_like_unknown(
            api,
            harness,
            "POST",
            (f"{conversation}/assign", {"operator_id": b.member_id}),
            (f"{conversation}/assign", {"operator_id": new_id()}),
            owner,
        )
        == "operator_not_found"
    )
    assert (
        _refused_like_unknown(
            api,
            harness,
            "POST",
            (f"{conversation}/read", {"up_to": b.message_id}),
            (f"{conversation}/read", {"up_to": new_id()}),
            owner,
        )
        == "message_not_found"
    )
    assert (
        _refused_like_unknown(
            api,
            harness,
            "GET",
            (f"{conversation}/messages?before={b.message_id}", None),
            (f"{conversation}/messages?before={new_id()}", None),
            owner,
        )
        == "message_not_found"
    )
    members = f"/api/v1/websites/{a.website_id}/operators"
    for method, body in (("PATCH", {"role": "agent"}), ("DELETE", None)):
        assert (
            _refused_like_unknown(
                api,
                harness,
                method,
                (f"{members}/{b.pending_id}", body),
                (f"{members}/{new_id()}", body),
                owner,
            )
            == "operator_not_found"
        )
    assert (
        _refused_like_unknown(
            api,
            harness,
            "POST",
            ("/api/v1/tokens", {"name": "x", "scopes": ["read"], "website_ids": [b.website_id]}),
            ("/api/v1/tokens", {"name": "x", "scopes": ["read"], "website_ids": [new_id()]}),
            credentials(world, CALLERS[1]),
        )
        == "website_not_found"
    )


def test_a_token_limited_to_some_websites_does_not_show_the_others(
    server: ServerThread, harness: Harness, site: Site, api: Api
) -> None:
    world = build_world(harness, api, site)
    limited = credentials(world, next(c for c in CALLERS if c.limited))
    a, b = world.sides["A"], world.sides["B"]
    listed = api.call("GET", "/api/v1/websites", headers=limited)
    assert listed.status_code == 200, listed.text
    assert [w["id"] for w in listed.json()["websites"]] == [a.website_id]
    me = api.call("GET", "/api/v1/me", headers=limited)
    assert me.status_code == 200, me.text
    assert [w["id"] for w in me.json()["websites"]] == [a.website_id]
    for path in (
        f"/api/v1/websites/{b.website_id}",
        f"/api/v1/websites/{b.website_id}/conversations",
        f"/api/v1/conversations/{b.conversation_id}",
        f"/api/v1/sessions/{b.session_id}",
    ):
        response = api.call("GET", path, headers=limited)
        assert response.status_code == 404, f"{path}: {response.text}"
    assert api.call("GET", f"/api/v1/websites/{a.website_id}", headers=limited).status_code == 200


def test_public_ids_are_random_not_sequential(
    server: ServerThread, harness: Harness, site: Site, api: Api
) -> None:
    world = build_world(harness, api, site)
    owner = credentials(world, CALLERS[0])
    websites = []
    for n in range(8):
        made = api.call(
            "POST", "/api/v1/websites", json={"name": f"W{n}", "origins": [ORIGIN]}, headers=owner
        )
        assert made.status_code == 201, made.text
        websites.append(made.json()["website"]["id"])
    conversation = f"/api/v1/conversations/{world.sides['A'].conversation_id}/messages"
    messages = []
    for n in range(8):
        sent = api.call(
            "POST", conversation, json={"client_id": f"r{n}", "body": f"m{n}"}, headers=owner
        )
        assert sent.status_code == 201, sent.text
        messages.append(sent.json()["message"]["id"])
    every = {
        "website": websites,
        "message": messages,
        "operator": list(world.site.operator_ids.values()),
        "conversation": [s.conversation_id for s in world.sides.values()],
        "session": [s.session_id for s in world.sides.values()],
        "token": [s.token_id for s in world.sides.values()],
    }
    for kind, ids in every.items():
        for value in ids:
            assert ID_PATTERN.fullmatch(value), f"{kind} id {value!r}: not 24 chars of base32"
        assert len(set(ids)) == len(ids)
    for ids in (websites, messages):
        # made one after another, yet neither in order nor sharing a prefix, nor numbers
        assert ids != sorted(ids)
        assert not any(a[:6] == b[:6] for a, b in itertools.pairwise(ids))
        assert not any(value.isdigit() for value in ids)
