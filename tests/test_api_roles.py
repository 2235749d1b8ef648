"""Every `/api/v1` endpoint x every role x own website / another website, from the route table.

The endpoints are read from the application's route table, not listed here: a new endpoint is
covered without anyone remembering. Each route declares its access level in
`openapi_extra={"x-causerie-access": ...}` (`web/routes.py`); a route without one fails
`test_every_route_declares_its_access_and_is_covered`, and so does a route that takes a body
without an entry in BODIES (tests/roles_routes.py).

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

import itertools
from dataclasses import dataclass, fields

import httpx
import pytest

from causerie.tokens import new_id
from tests import roles_world
from tests.conftest import Harness, ServerThread, Site
from tests.roles_routes import (
    ACCESS_LEVELS,
    BODIES,
    BODY_TARGETS,
    ENDPOINTS,
    LIKE_UNKNOWN,
    LOGIN_ONLY,
    PATH_VALUES,
    SAFE,
    Case,
    Endpoint,
    Expected,
    api_endpoints,
    body_of,
    collect_endpoints,
    credentials,
    error_code,
    expected,
    path_values,
    url_of,
)
from tests.roles_world import (
    CALLERS,
    Api,
    Caller,
    Side,
    World,
    build_world,
    changes,
    repair_world,
    snapshot,
)

# tests/roles_world.py's fixture, for this module's tests
api = roles_world.api


def test_every_route_declares_its_access_and_is_covered() -> None:
    """A fresh application's route table (each test server's is compared with it)."""
    endpoints = collect_endpoints()
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
