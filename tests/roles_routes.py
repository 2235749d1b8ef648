"""The role tests' route table and requests (tests/test_api_roles*.py): every `/api/v1` route read
from the application with the access level it declares (`openapi_extra`), the path values and
bodies a call sends (PATH_VALUES, BODIES), and what each caller must get (`expected`).
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from causerie.actions.blocks import do_add_block_rule
from causerie.actions.operators import do_create_api_token
from causerie.actions.push import do_subscribe
from causerie.app import create_app
from causerie.clock import ManualClock
from causerie.domain.models import Actor, Scope
from causerie.settings import load_settings
from causerie.tokens import new_id
from tests.conftest import Harness
from tests.roles_world import (
    Caller,
    Side,
    World,
)

ACCESS_LEVELS = ("public", "login", "agent", "admin", "owner")
RANK = {"agent": 1, "admin": 2, "owner": 3}
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


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


def collect_endpoints() -> list[Endpoint]:
    """The route table at collection time (the same code as every test server's)."""
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            environ={}, data_dir=folder, database_url=f"sqlite:///{folder}/routes.db"
        )
        return api_endpoints(create_app(settings, ManualClock()).routes)


ENDPOINTS = collect_endpoints()


# -- requests -----------------------------------------------------------------------------------


_serial = itertools.count(1)  # a serial per case: names and values no case repeats


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
    ("POST", "/api/v1/webhooks/{webhook_id}/rotate"): lambda c: {},  # as the inbox sends
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
                "add it to PATH_VALUES in tests/roles_routes.py"
            )
        values[name] = PATH_VALUES[name](case)
    return values


def body_of(endpoint: Endpoint, case: Case) -> dict[str, object] | None:
    if not endpoint.has_body:
        return None
    if endpoint.key not in BODIES:
        pytest.fail(f"{endpoint} takes a body and has no entry in BODIES of tests/roles_routes.py")
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
