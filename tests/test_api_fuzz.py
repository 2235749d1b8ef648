"""OpenAPI fuzzing of `/api/v1` with schemathesis: no 500, no response that breaks its schema.

The schema is the one the running test server publishes (`/api/v1/openapi.json`); the requests
go to that server over a real socket, authenticated as an owner of the site: with an API token
(scopes read and write), and with the login cookie and its CSRF header. Path parameters name real
objects (the site's website, a visitor's session and conversation, a pending operator, a token)
so that the generated bodies and queries reach the code behind the access checks. Operations that
would destroy what the others need (deleting a website, a conversation, an operator, a token;
logging out) get random ids instead, and run last.

Checks: not_a_server_error, response_schema_conformance, status_code_conformance (every
operation documents the API-wide error statuses too, `api_models.ERRORS`), content_type_conformance
and response_headers_conformance. The run also fails when fewer than half of the operations ever
answered 2xx: the credential must get through.

Each operation is a Hypothesis test of its own (`operation.as_strategy()`), bounded and
deterministic: MAX_EXAMPLES cases, `derandomize`, no shrinking, no example database. The failures
of every operation are collected, then reported together. SQLite only: tests/test_api_roles.py
covers both databases.

(schemathesis's own `pytest.from_fixture(...).parametrize()` is not used: with pytest 9 it fails
on `request.node._nodeid`; and loading the schema at collection would not be the running server's.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from causerie.actions.members import do_invite
from causerie.domain.models import Actor, Role
from tests.conftest import ORIGIN, Harness, ServerThread, Site

MAX_EXAMPLES = 30
COOKIE_EXAMPLES = 15  # the cookie pass checks the login path; the token pass does the bulk
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
]
PAGE = {"url": "https://shop.example/shoes", "title": "Shoes", "referrer": ""}

# These destroy what their path names, or the credential itself: random ids for them.
DESTRUCTIVE = re.compile(r"^(DELETE |POST /api/v1/auth/logout$)")

SETTINGS = hypothesis.settings(
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failure found
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only, for this module."""
    return f"sqlite:///{tmp_path / 'causerie.db'}"


def real_ids(http: httpx.Client, harness: Harness, site: Site) -> dict[str, str]:
    """A visitor's session with a conversation (via the widget API) and a pending operator."""
    opened = http.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"page": PAGE},
        headers={"Origin": ORIGIN},
    )
    assert opened.status_code == 201, opened.text
    sent = http.post(
        "/api/widget/v1/session/messages",
        json={"client_id": "v1", "type": "text", "body": "Hello"},
        headers={"Authorization": f"Bearer {opened.json()['token']}", "Origin": ORIGIN},
    )
    assert sent.status_code == 201, sent.text
    invited = harness.run(
        do_invite(harness.rt, Actor.cli(), site.website_id, "pending@shop.example", Role.AGENT)
    )
    return {
        "website_id": site.website_id,
        "session_id": opened.json()["session"]["id"],
        "conversation_id": sent.json()["message"]["conversation_id"],
        "operator_id": invited.member.operator.id,
    }


def load_schema(server: ServerThread) -> Any:
    schema = schemathesis.openapi.from_url(f"{server.url}/api/v1/openapi.json")
    return schema.include(path_regex=r"^/api/v1/")


def fuzz(
    server: ServerThread,
    ids: dict[str, str],
    headers: dict[str, str],
    cookies: dict[str, str] | None = None,
    examples: int = MAX_EXAMPLES,
) -> list[str]:
    """Every /api/v1 operation, MAX_EXAMPLES cases each; the failures, one line per operation.

    Also fails when the credential did not get through: most operations a request can reach
    (those whose path parameters are the real ids given) must have succeeded (2xx) at least once,
    or the run only fuzzed the authentication."""
    failures: list[str] = []
    succeeded: set[str] = set()
    operations = []
    reachable = []  # what a valid request can reach: no path parameter but those of `ids`
    every = [result.ok() for result in load_schema(server).get_all_operations()]
    # what destroys goes last, logging out the very last
    every.sort(key=lambda o: (bool(DESTRUCTIVE.match(o.label)), "logout" in o.label))
    for operation in every:
        operations.append(operation.label)
        names = {p.name for p in operation.path_parameters}
        fixed = {n: ids[n] for n in names & ids.keys()}
        if names <= ids.keys() and not DESTRUCTIVE.match(operation.label):
            reachable.append(operation.label)
        if DESTRUCTIVE.match(operation.label):
            fixed = {}
        strategy = operation.as_strategy(path_parameters=fixed)
        test = hypothesis.settings(SETTINGS, max_examples=examples)(
            _operation_test(strategy, server, headers, cookies or {}, succeeded)
        )
        try:
            test()
        except (Exception, BaseExceptionGroup) as exc:  # collect, go on with the next one
            failures.append(f"{operation.label}: {type(exc).__name__}: {exc}")
    assert len(operations) >= 20, f"only {len(operations)} operations in the schema"
    never = sorted(set(reachable) - succeeded)
    assert len(succeeded & set(reachable)) >= len(reachable) // 2, f"never a 2xx answer: {never}"
    return failures


def _operation_test(
    strategy: Any,
    server: ServerThread,
    headers: dict[str, str],
    cookies: dict[str, str],
    succeeded: set[str],
) -> Callable[[], None]:
    @hypothesis.given(case=strategy)
    def test(case: schemathesis.Case) -> None:
        response = case.call_and_validate(
            base_url=server.url, headers=headers, cookies=cookies, checks=CHECKS
        )
        if 200 <= response.status_code < 300:
            succeeded.add(case.operation.label)

    return test  # type: ignore[no-any-return]


def test_api_v1_by_token(
    server: ServerThread, http: httpx.Client, harness: Harness, site: Site
) -> None:
    ids = real_ids(http, harness, site)
    ids["token_id"] = harness.scalar("SELECT id FROM api_tokens LIMIT 1")
    failures = fuzz(server, ids, {"Authorization": f"Bearer {site.tokens['owner']}"})
    assert not failures, "\n\n".join(failures)


def test_api_v1_by_login_cookie(
    server: ServerThread, http: httpx.Client, harness: Harness, site: Site
) -> None:
    ids = real_ids(http, harness, site)
    ids["token_id"] = harness.scalar("SELECT id FROM api_tokens LIMIT 1")
    login = http.post(
        "/api/v1/auth/login",
        json={"email": "owner@shop.example", "password": site.passwords["owner"]},
    )
    assert login.status_code == 200, login.text
    failures = fuzz(
        server,
        ids,
        headers={"X-CSRF-Token": login.json()["csrf_token"]},
        cookies={"causerie_login": login.cookies["causerie_login"]},
        examples=COOKIE_EXAMPLES,
    )
    assert not failures, "\n\n".join(failures)
