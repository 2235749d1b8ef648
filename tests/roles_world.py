"""The role tests' world (tests/test_api_roles*.py): two websites with every kind of object, an
owner, admin and agent on each, the callers (by API token and by login cookie + CSRF), the
calls as they make them, and a digest of the database's rows to show that a refused call
changed nothing.

An allowed call that destroys part of the world (a website, a conversation, an operator, a
login) is followed by a repair (`repair_world`), so that the next cases find what they need.
"""

from __future__ import annotations

import io
import itertools
import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from causerie.actions.labels import do_create_label
from causerie.actions.members import do_invite
from causerie.actions.operators import do_add_operator, do_create_api_token
from causerie.actions.replies import do_create_reply
from causerie.actions.teams import do_create_team
from causerie.actions.webhooks import do_create_webhook
from causerie.actions.websites import do_create_website
from causerie.domain.models import Actor, Role, Scope
from causerie.domain.webhooks import Delivery
from causerie.store.schema import metadata
from causerie.tokens import hash_token, new_id
from tests.conftest import ORIGIN, OTHER_ORIGIN, Harness, Site

PAGE = {"url": "https://shop.example/shoes", "title": "Shoes", "referrer": ""}


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


@pytest.fixture
def api(http: httpx.Client) -> Api:
    return Api(http)
