"""Canned replies and labels over `/api/v1` (docs/api.md "Canned replies and labels",
docs/inbox.md), on a real server over SQLite and PostgreSQL: what each call does, what it
refuses (a clear 4xx that changes nothing), and the `conversation.updated` a change of labels
pushes to the agents' stream, replayed with `after`. Who may call what: tests/test_api_roles.py.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from causerie.clock import ManualClock
from causerie.domain.errors import Invalid
from causerie.domain.replies import check_body, expand
from tests.conftest import Harness, ServerThread, Site
from tests.live import Live
from tests.support import (
    As,
    agent_socket,
    chat,
    conversations_path,
    ids,
    stored_until,
    visitor_socket,
)
from tests.test_errors import error_of


def test_reply_variables_are_known_ones_and_expand_only_with_a_value() -> None:
    assert check_body("Hi {visitor_name}, {agent_name} of {website} here. {1} { }") is not None
    with pytest.raises(Invalid) as refused:
        check_body("Hello {visitor}!")
    assert refused.value.code == "unknown_variable"
    assert "{visitor}" in refused.value.message and "{visitor_name}" in refused.value.message
    values = {"visitor_name": "", "agent_name": "Ada", "website": "Shop"}
    assert expand("Hi {visitor_name}, {agent_name} of {website}", values) == (
        "Hi {visitor_name}, Ada of Shop"
    )


def test_canned_replies_are_read_by_agents_and_managed_by_admins(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    agent, admin = As(http, site, "agent"), As(http, site, "admin")
    path = f"/websites/{site.website_id}/replies"
    assert agent.ok(agent.get(path)) == {"replies": []}
    hello = {"shortcut": "hello", "title": "Greeting", "body": "Hi {visitor_name}!"}
    assert error_of(agent.post(path, hello), 403)["code"] == "forbidden"

    made = admin.ok(admin.post(path, hello), 201)["reply"]
    assert {k: made[k] for k in hello} == hello
    bye = admin.ok(
        admin.post(path, {"shortcut": "bye", "title": "Goodbye", "body": "Bye from {website}"}),
        201,
    )["reply"]
    for body, status, code in (
        ({**hello, "title": "Again"}, 409, "shortcut_taken"),
        ({**hello, "shortcut": "Hello There"}, 422, "invalid_shortcut"),
        ({**hello, "shortcut": "x", "body": "Hi {name}"}, 422, "unknown_variable"),
        ({**hello, "shortcut": "y", "body": "   "}, 422, "invalid_body"),
        ({**hello, "shortcut": "z", "title": ""}, 422, "invalid_title"),
        ({"shortcut": "w", "title": "No body"}, 422, "invalid_request"),
    ):
        error = error_of(admin.post(path, body), status)
        assert error["code"] == code, (body, error)
    listed = agent.ok(agent.get(path))["replies"]
    assert listed == [bye, made]  # by shortcut; nothing refused was stored

    one = f"{path}/{made['id']}"
    changed = admin.ok(admin.patch(one, {"body": "Hello {visitor_name}, {agent_name} here"}))
    assert changed["reply"]["body"] == "Hello {visitor_name}, {agent_name} here"
    assert changed["reply"]["shortcut"] == "hello"
    assert error_of(admin.patch(one, {"shortcut": "bye"}), 409)["code"] == "shortcut_taken"
    assert error_of(admin.patch(one, {"body": "{oops}"}), 422)["code"] == "unknown_variable"
    assert error_of(agent.patch(one, {"title": "Mine"}), 403)["code"] == "forbidden"
    assert agent.ok(agent.get(path))["replies"][1] == changed["reply"]

    assert admin.delete(one).status_code == 204
    assert error_of(admin.delete(one), 404)["code"] == "reply_not_found"
    assert error_of(admin.patch(one, {"title": "x"}), 404)["code"] == "reply_not_found"
    assert [r["shortcut"] for r in agent.ok(agent.get(path))["replies"]] == ["bye"]
    # Each change an admin made, and only those, is in the audit log (ids only).
    audited = harness.rows(
        "SELECT action, target_id FROM audit_log WHERE target_type = 'reply' ORDER BY at, action"
    )
    assert sorted(tuple(row) for row in audited) == sorted(
        [
            ("reply.create", made["id"]),
            ("reply.create", bye["id"]),
            ("reply.update", made["id"]),
            ("reply.delete", made["id"]),
        ]
    )


def _labels(api: As, site: Site) -> tuple[dict[str, Any], dict[str, Any]]:
    path = f"/websites/{site.website_id}/labels"
    billing = api.ok(api.post(path, {"name": "Billing", "color": "#AA0011"}), 201)["label"]
    vip = api.ok(api.post(path, {"name": "VIP", "color": "#00aa11"}), 201)["label"]
    return billing, vip


def _check_label_rules(
    agent: As, admin: As, site: Site, billing: dict[str, Any], vip: dict[str, Any]
) -> None:
    """Names once per website, colours #rrggbb, admins only; refusals change nothing."""
    path = f"/websites/{site.website_id}/labels"
    assert billing["color"] == "#aa0011"  # stored in lowercase
    for body, status, code in (
        ({"name": "Billing", "color": "#000000"}, 409, "label_name_taken"),
        ({"name": "Red", "color": "red"}, 422, "invalid_color"),
        ({"name": "Red", "color": "#12345g"}, 422, "invalid_color"),
        ({"name": " ", "color": "#123456"}, 422, "invalid_label_name"),
    ):
        assert error_of(admin.post(path, body), status)["code"] == code, body
    assert error_of(agent.post(path, {"name": "A", "color": "#123456"}), 403)["code"] == "forbidden"
    renamed = admin.ok(admin.patch(f"{path}/{vip['id']}", {"name": "Gold", "color": "#FFD700"}))
    assert renamed["label"] == {"id": vip["id"], "name": "Gold", "color": "#ffd700"}
    taken = admin.patch(f"{path}/{vip['id']}", {"name": "Billing"})
    assert error_of(taken, 409)["code"] == "label_name_taken"
    assert agent.ok(agent.get(path))["labels"] == [billing, renamed["label"]]
    assert error_of(agent.delete(f"{path}/{vip['id']}"), 403)["code"] == "forbidden"


def test_labels_are_checked_filter_the_list_reach_the_agents_and_replay(
    http: httpx.Client,
    site: Site,
    server: ServerThread,
    sockets: list[Live],
    harness: Harness,
    clock: ManualClock,
) -> None:
    agent, admin = As(http, site, "agent"), As(http, site, "admin")
    billing, vip = _labels(admin, site)
    _check_label_rules(agent, admin, site, billing, vip)
    first = chat(http, site.website_id, "my invoice is wrong")
    clock.advance(timedelta(seconds=1))
    second = chat(http, site.website_id, "hello")
    assert first.conversation_id and second.conversation_id
    desk, ready = agent_socket(server, sockets, site)
    start = ready["seq"]
    shown, _ = visitor_socket(server, sockets, first, site.website_id)
    conversation = f"/conversations/{first.conversation_id}"
    assert agent.ok(agent.get(conversation))["conversation"]["labels"] == []

    put = agent.http.put
    labelled = put(
        f"/api/v1{conversation}/labels",
        json={"labels": [vip["id"], billing["id"], vip["id"]]},
        headers=agent.headers,
    )
    assert agent.ok(labelled)["conversation"]["labels"] == [vip["id"], billing["id"]]
    pushed = desk.expect("conversation.updated")
    assert pushed["conversation"]["id"] == first.conversation_id
    assert pushed["conversation"]["labels"] == [vip["id"], billing["id"]]
    # the same labels again: nothing to tell; unknown or foreign ids: 404 and nothing changes
    same = put(
        f"/api/v1{conversation}/labels",
        json={"labels": [vip["id"], billing["id"]]},
        headers=agent.headers,
    )
    assert agent.ok(same)["conversation"]["updated_at"] == pushed["conversation"]["updated_at"]
    other = As(http, site, "other_owner")
    foreign = other.ok(
        other.post(
            f"/websites/{site.other_website_id}/labels", {"name": "Theirs", "color": "#000000"}
        ),
        201,
    )["label"]
    for wrong in ([foreign["id"]], ["nosuchlabel"]):
        refused = put(
            f"/api/v1{conversation}/labels", json={"labels": wrong}, headers=agent.headers
        )
        assert error_of(refused, 404)["code"] == "label_not_found"
    too_many = put(f"/api/v1{conversation}/labels", json={"labels": "x"}, headers=agent.headers)
    assert error_of(too_many, 422)["code"] == "invalid_request"
    assert agent.ok(agent.get(conversation))["conversation"]["labels"] == [vip["id"], billing["id"]]

    listed = conversations_path(site)
    assert ids(agent.ok(agent.get(listed, label=billing["id"]))) == [first.conversation_id]
    assert ids(agent.ok(agent.get(listed))) == [second.conversation_id, first.conversation_id]
    unknown = agent.get(listed, label=foreign["id"])
    assert error_of(unknown, 404)["code"] == "label_not_found"
    summary = agent.ok(agent.get(listed, label=vip["id"]))["conversations"][0]
    assert summary["labels"] == [vip["id"], billing["id"]]

    # Deleting a label takes it off every conversation, each change told to the agents.
    assert admin.delete(f"/websites/{site.website_id}/labels/{vip['id']}").status_code == 204
    after_delete = desk.expect("conversation.updated")
    assert after_delete["conversation"]["labels"] == [billing["id"]]
    assert agent.ok(agent.get(conversation))["conversation"]["labels"] == [billing["id"]]
    assert ids(agent.ok(agent.get(listed, label=billing["id"]))) == [first.conversation_id]
    details = harness.scalar(
        "SELECT details FROM audit_log WHERE action = 'label.delete' AND target_id = :t",
        t=vip["id"],
    )
    assert (json.loads(details) if isinstance(details, str) else details) == {"conversations": 1}

    # The visitor's stream hears nothing of labels, and their view holds none.
    assert [f for f in shown.barrier() if f["type"] == "conversation.updated"] == []
    visitor_view = harness.scalar(
        "SELECT count(*) FROM events WHERE stream = :s AND type = 'conversation.updated'",
        s=f"session:{first.session_id}",
    )
    assert visitor_view == 1  # the conversation's start only

    # Replayed from the event log, as the conversation is now.
    back, _ = agent_socket(server, sockets, site, after=start)
    replayed = stored_until(back, after_delete["seq"])
    changes = [f for f in replayed if f["type"] == "conversation.updated"]
    assert [f["seq"] for f in changes] == [pushed["seq"], after_delete["seq"]]
    assert {tuple(f["conversation"]["labels"]) for f in changes} == {(billing["id"],)}
