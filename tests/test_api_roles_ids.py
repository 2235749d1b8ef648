"""Ids that arrive in a body or a second path parameter are refused like unknown ones, a token
limited to some websites shows none of the others, and public ids are random (the role tests'
world: tests/roles_world.py).
"""

from __future__ import annotations

import itertools
import re

from causerie.tokens import new_id
from tests import roles_world
from tests.conftest import ORIGIN, Harness, ServerThread, Site
from tests.roles_routes import (
    credentials,
    error_code,
)
from tests.roles_world import (
    CALLERS,
    Api,
    build_world,
    changes,
    snapshot,
)

# tests/roles_world.py's fixture, for this module's tests
api = roles_world.api


ID_PATTERN = re.compile(r"[a-z2-7]{24}")


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
