"""Requests a route refused unclearly, or not at all, now refused naming what is wrong and
changing nothing (docs/api.md): a webhook target with a fragment, the transcript-by-mail body,
an empty `before=`, and `OPTIONS` on the API."""

from __future__ import annotations

from collections import defaultdict

import httpx

from tests.conftest import ORIGIN, Harness, ServerThread, Site
from tests.support import push_subscription
from tests.test_errors import error_of
from tests.test_session_endpoint import open_session


def owner(site: Site) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.tokens['owner']}"}


def test_a_webhook_or_push_target_with_a_fragment_is_refused_naming_it(
    server: ServerThread, http: httpx.Client, site: Site
) -> None:
    """A fragment never leaves the client: the target would be the URL without it, not what
    was written."""
    hooks = f"/api/v1/websites/{site.website_id}/webhooks"
    for url in ("https://example.com/hook#secret", "https://example.com/#"):
        created = http.post(
            hooks, headers=owner(site), json={"url": url, "events": ["message.created"]}
        )
        assert created.status_code == 422, created.text
        error = created.json()["error"]
        assert error["code"] == "invalid_webhook_url"
        assert error["message"].startswith("url: ") and "#fragment" in error["message"]
    assert http.get(hooks, headers=owner(site)).json()["webhooks"] == []
    encoded = http.post(
        hooks,
        headers=owner(site),
        json={"url": "https://example.com/hook?tag=%23one", "events": ["message.created"]},
    )
    assert encoded.status_code == 201, encoded.text  # a `#` written %23 is no fragment

    pushes = "/api/v1/push/subscriptions"
    refused = http.post(
        pushes, headers=owner(site), json=push_subscription("https://push.example/a#b")
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "invalid_subscription"
    assert "#fragment" in refused.json()["error"]["message"]
    assert http.get(pushes, headers=owner(site)).json()["subscriptions"] == []


def test_an_empty_before_is_refused_naming_it_on_both_message_lists(
    server: ServerThread, http: httpx.Client, site: Site
) -> None:
    """`before=` given empty is not `before` left out (as a report's `from=`, docs/api.md): it
    was looked up as a message id and answered 404 `message_not_found`."""
    token = open_session(http, site.website_id).json()["token"]
    visitor = {"Authorization": f"Bearer {token}", "Origin": ORIGIN}
    sent = http.post(
        "/api/widget/v1/session/messages",
        json={"client_id": "c1", "type": "text", "body": "Hello"},
        headers=visitor,
    )
    assert sent.status_code == 201, sent.text
    conversation = sent.json()["message"]["conversation_id"]
    lists = (
        ("/api/widget/v1/session/messages", visitor),
        (f"/api/v1/conversations/{conversation}/messages", owner(site)),
    )
    for path, headers in lists:
        error = error_of(http.get(path, params={"before": ""}, headers=headers), 422)
        assert error["code"] == "invalid_request"
        assert error["message"].startswith("before: "), error
        left_out = http.get(path, headers=headers)
        assert [m["body"] for m in left_out.json()["messages"]] == ["Hello"]
        unknown = http.get(path, params={"before": "nope"}, headers=headers)
        assert error_of(unknown, 404)["code"] == "message_not_found"


def test_options_is_405_with_allow_and_a_preflight_outside_the_chatbox_api_says_why(
    server: ServerThread, http: httpx.Client, site: Site
) -> None:
    """No path takes `OPTIONS` but as a CORS preflight on the chatbox API (docs/api.md): the
    agent API grants no cross-origin calls (SPEC.md: CORS is the visitor side's)."""
    agents = f"/api/v1/websites/{site.website_id}"
    plain = http.options(agents)
    error = error_of(plain, 405)
    assert error["code"] == "method_not_allowed"
    assert plain.headers["allow"] == "DELETE, GET, HEAD, PATCH"
    assert (
        error["message"] == f"OPTIONS is not taken at {agents}; it takes DELETE, GET, HEAD, PATCH"
    )

    preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "PATCH"}
    for path in (agents, "/api/health"):
        refused = http.options(path, headers=preflight)
        error = error_of(refused, 405)
        assert refused.headers["allow"]
        assert "access-control-allow-origin" not in refused.headers
        assert error["message"].endswith(
            "cross-origin calls (CORS) are granted on /api/widget/ only"
        )

    # The chatbox API: its preflight from an allowed origin is granted; a plain OPTIONS is 405.
    chatbox = "/api/widget/v1/session/messages"
    granted = http.options(chatbox, headers={**preflight, "Access-Control-Request-Method": "POST"})
    assert granted.status_code == 204
    assert granted.headers["access-control-allow-origin"] == ORIGIN
    assert error_of(http.options(chatbox), 405)["message"].endswith("it takes GET, HEAD, POST")


# Query parameters whose empty value a contract gives a meaning: a report's `by=` empty is no
# breakdown, as its absence (docs/reports.md; the inbox's CSV export sends it).
EMPTY_MEANS_ABSENT = frozenset({("get", "/api/v1/websites/{website_id}/reports", "by")})


def test_every_query_parameter_given_empty_is_refused_naming_it(
    server: ServerThread, http: httpx.Client, site: Site
) -> None:
    """An empty value is not a value left out (docs/api.md): `cursor=` or `q=` empty was read as
    absent on the conversations list and the audit log while `before=` empty was refused. Every
    query parameter of the published document's reads is sent empty, one at a time."""
    token = open_session(http, site.website_id).json()["token"]
    visitor = {"Authorization": f"Bearer {token}", "Origin": ORIGIN}
    sent = http.post(
        "/api/widget/v1/session/messages",
        json={"client_id": "c1", "type": "text", "body": "Hello"},
        headers=visitor,
    )
    values = defaultdict(
        lambda: "unknown",
        website_id=site.website_id,
        conversation_id=sent.json()["message"]["conversation_id"],
    )
    document = http.get("/api/v1/openapi.json").json()
    tried = []
    for template, operations in document["paths"].items():
        path = template.format_map(values)
        headers = visitor if template.startswith("/api/widget/") else owner(site)
        for method, operation in operations.items():
            if method != "get":  # a body's own checks may come first
                continue
            for parameter in operation.get("parameters", []):
                name = parameter["name"]
                if parameter["in"] != "query" or (method, template, name) in EMPTY_MEANS_ABSENT:
                    continue
                answer = http.request(method, path, params={name: ""}, headers=headers)
                error = error_of(answer, 422)
                assert name in error["message"].split(":")[0] or error["message"].startswith(
                    f"{name} "
                ), (method, template, error)
                tried.append(f"{template}?{name}=")
    assert "/api/v1/websites/{website_id}/conversations?cursor=" in tried
    assert "/api/v1/websites/{website_id}/audit?cursor=" in tried
    assert len(tried) >= 19, tried


def test_a_chatbox_preflight_on_a_path_that_is_no_route_is_404_as_any_request_there(
    server: ServerThread, http: httpx.Client, site: Site
) -> None:
    """A preflight was granted (204) on any `/api/widget/` path, routes or not: a page was told
    it may POST to a path that answers 404 (docs/api.md, "OPTIONS")."""
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x"}
    for path in ("/api/widget/v1/nothing", "/api/widget/", "/api/widget/v1/session/messages/x"):
        plain = error_of(http.get(path, headers={"Origin": ORIGIN}), 404)
        for origin in (ORIGIN, "https://evil.example"):
            answer = http.options(path, headers={**preflight, "Origin": origin})
            assert error_of(answer, 404) == plain, (path, origin)
            assert "access-control-allow-methods" not in answer.headers
            assert "access-control-max-age" not in answer.headers
    # A route's preflight is still granted, with its path values (a file's id) too.
    for path in ("/api/widget/v1/session/messages", "/api/widget/v1/session/files/anything"):
        granted = http.options(path, headers={**preflight, "Origin": ORIGIN})
        assert granted.status_code == 204, (path, granted.text)
        assert granted.headers["access-control-allow-origin"] == ORIGIN


def test_an_operators_name_out_of_bounds_is_refused_naming_the_field(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    """`/me`'s `name` refused said "a name is 1 to 200 characters", the one 422 message that
    did not name its field first as docs/api.md says every one does."""
    before = harness.scalar(
        "SELECT name FROM operators WHERE id = :o", o=site.operator_ids["owner"]
    )
    for name in ("", "   ", "n" * 201):
        refused = http.patch("/api/v1/me", json={"name": name}, headers=owner(site))
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["code"] in ("invalid_name", "invalid_request"), error
        assert error["message"].startswith("name: "), error
    after = harness.scalar("SELECT name FROM operators WHERE id = :o", o=site.operator_ids["owner"])
    assert after == before
