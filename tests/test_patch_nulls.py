"""`null` in a change (`PATCH`): it clears where docs/api.md gives it that meaning, and is
refused naming the field everywhere else. It was read as the field left out: `{"url": null}`
answered 200 and changed nothing."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import ORIGIN, ServerThread, Site
from tests.test_errors import error_of
from tests.test_session_endpoint import open_session

# The fields whose `null` clears, by docs/api.md (the profile's three texts, the inbox's
# language, and the website settings that return to a default); `(path, field)`.
SETTINGS = "/api/v1/websites/{website_id}"
CLEARABLE = {
    ("/api/v1/me", "language"),
    *(
        (path, field)
        for path in ("/api/widget/v1/session/profile", "/api/v1/sessions/{session_id}/profile")
        for field in ("nickname", "email", "phone")
    ),
    *((SETTINGS, f"settings.{name}") for name in ("locale", "business_hours")),
    *((SETTINGS, f"settings.{name}") for name in ("auto_resolve_minutes", "retention")),
    *((SETTINGS, f"settings.retention.{rule}") for rule in ("chat_ips", "files")),
    (SETTINGS, "settings.retention.resolved_conversations"),
}


def _owner(site: Site) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.tokens['owner']}"}


def _created(response: httpx.Response, name: str) -> str:
    assert response.status_code == 201, response.text
    identifier: str = response.json()[name]["id"]
    return identifier


def _ids(http: httpx.Client, site: Site) -> tuple[dict[str, str], str]:
    """An object of each kind a `PATCH` changes, and a visitor's session token."""
    website = f"/api/v1/websites/{site.website_id}"
    headers = _owner(site)
    opened = open_session(http, site.website_id)
    ids = {
        "website_id": site.website_id,
        "operator_id": site.operator_ids["agent"],
        "session_id": opened.json()["session"]["id"],
        "team_id": _created(
            http.post(f"{website}/teams", json={"name": "Sales"}, headers=headers), "team"
        ),
        "reply_id": _created(
            http.post(
                f"{website}/replies",
                json={"shortcut": "hi", "title": "Hello", "body": "Hello!"},
                headers=headers,
            ),
            "reply",
        ),
        "label_id": _created(
            http.post(
                f"{website}/labels", json={"name": "vip", "color": "#aa0000"}, headers=headers
            ),
            "label",
        ),
        "webhook_id": _created(
            http.post(
                f"{website}/webhooks",
                json={"url": "https://example.com/hook", "events": ["message.created"]},
                headers=headers,
            ),
            "webhook",
        ),
    }
    return ids, opened.json()["token"]


def _resolved(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in schema:  # a nested object that may be null: its object side
        objects = [_resolved(s, document) for s in schema["anyOf"] if s != {"type": "null"}]
        if len(objects) == 1 and "properties" in objects[0]:
            return objects[0]
    return schema


def _admits_null(schema: dict[str, Any]) -> bool:
    return {"type": "null"} in schema.get("anyOf", []) or schema.get("type") == "null"


def _fields(schema: dict[str, Any], document: dict[str, Any], prefix: str = "") -> list[Any]:
    """Each field of a body, nested objects' fields too: (dotted name, admits null)."""
    found = []
    for name, field in _resolved(schema, document).get("properties", {}).items():
        dotted = prefix + name
        found.append((dotted, _admits_null(field)))
        inner = _resolved(field, document)
        if "properties" in inner:
            found.extend(_fields(inner, document, dotted + "."))
    return found


def _body(dotted: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    *outer, last = dotted.split(".")
    level = body
    for name in outer:
        level = level.setdefault(name, {})
    level[last] = None
    return body


def test_null_is_refused_naming_the_field_on_every_patch_but_where_it_clears(
    server: ServerThread, http: httpx.Client, site: Site
) -> None:
    """Every field of every `PATCH` body of the published document is sent `null`, one at a
    time: the document says where `null` is a value, and the server answers as it says."""
    ids, visitor_token = _ids(http, site)
    visitor = {"Authorization": f"Bearer {visitor_token}", "Origin": ORIGIN}
    document = http.get("/api/v1/openapi.json").json()
    clearing, refused = set(), set()
    for template, operations in document["paths"].items():
        if "patch" not in operations:
            continue
        path = template.format_map(ids)
        headers = visitor if template.startswith("/api/widget/") else _owner(site)
        schema = operations["patch"]["requestBody"]["content"]["application/json"]["schema"]
        for dotted, admits_null in _fields(schema, document):
            answer = http.patch(path, json=_body(dotted), headers=headers)
            if admits_null:
                assert answer.status_code == 200, (template, dotted, answer.text)
                clearing.add((template, dotted))
            else:
                error = error_of(answer, 422)
                code = "invalid_settings" if dotted.startswith("settings.") else "invalid_request"
                assert error["code"] == code, (template, error)
                assert error["message"].startswith(f"{dotted}: "), (template, error)
                refused.add((template, dotted))
    assert clearing == CLEARABLE
    assert {
        ("/api/v1/webhooks/{webhook_id}", "url"),
        ("/api/v1/webhooks/{webhook_id}", "enabled"),
        ("/api/v1/websites/{website_id}/teams/{team_id}", "members"),
        ("/api/v1/websites/{website_id}/labels/{label_id}", "color"),
        ("/api/v1/websites/{website_id}/replies/{reply_id}", "body"),
        ("/api/v1/me", "name"),
        (SETTINGS, "settings.color"),
        (SETTINGS, "origins"),
        ("/api/v1/sessions/{session_id}/profile", "data"),
        ("/api/v1/push/preferences", "push_previews"),
    } <= refused
    assert len(refused) >= 28, sorted(refused)


def test_a_null_beside_a_good_field_changes_nothing(
    server: ServerThread, http: httpx.Client, site: Site
) -> None:
    ids, _ = _ids(http, site)
    hook = f"/api/v1/webhooks/{ids['webhook_id']}"
    answer = http.patch(hook, json={"enabled": False, "url": None}, headers=_owner(site))
    assert error_of(answer, 422)["message"].startswith("url: ")
    webhook = http.get(hook, headers=_owner(site)).json()["webhook"]
    assert (webhook["enabled"], webhook["url"]) == (True, "https://example.com/hook")
