"""The inbox's REST API for websites (`/api/v1`, docs/api.md "Agent side") over a real server, on
SQLite and PostgreSQL: websites and their settings, their operators, the visitors online and
the statistics.

Who may call what is covered by the role tests (tests/test_api_roles.py); here every call is made
by a member allowed to make it.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx

from causerie.clock import ManualClock
from causerie.domain.wire import iso
from tests.conftest import ORIGIN, OTHER_ORIGIN, Harness, ServerThread, Site
from tests.live import Live
from tests.support import (
    PAGE,
    VISITOR_IP,
    As,
    agent_socket,
    chat,
    conversations_path,
    ids,
    new_visitor,
    say,
    visitor_socket,
    wait_until,
)
from tests.test_errors import error_of

# -- websites ------------------------------------------------------------------------------------


def test_websites_list_roles_and_a_new_website_makes_its_creator_owner(
    http: httpx.Client, site: Site, harness: Harness, clock: ManualClock
) -> None:
    api = As(http, site, "agent")
    (shop,) = api.ok(api.get("/websites"))["websites"]
    assert (shop["id"], shop["name"], shop["role"]) == (site.website_id, "Shop", "agent")
    assert shop["origins"] == [ORIGIN] and shop["settings"]["position"] == "right"
    assert [
        w["role"]
        for w in As(http, site, "admin").ok(As(http, site, "admin").get("/websites"))["websites"]
    ] == ["admin"]

    created = api.ok(
        api.post("/websites", {"name": "  Blog ", "origins": ["https://Blog.Example/any/path"]}),
        201,
    )["website"]
    assert created["name"] == "Blog"
    assert created["origins"] == ["https://blog.example"]
    defaults = {
        "color": "#3b5bdb",
        "position": "right",
        "greeting": "",
        "locale": None,
        "email_prompt": True,
    }
    assert created["settings"] == created["settings"] | defaults
    assert created["created_at"] == iso(clock.now())
    detail = api.ok(api.get(f"/websites/{created['id']}"))
    assert detail["role"] == "owner" and detail["website"] == created
    assert created["id"] in detail["snippet"]
    assert f"{harness.settings.public_url}/widget.js" in detail["snippet"]
    assert error_of(api.get("/websites/nosuchwebsite"), 404)["code"] == "website_not_found"
    roles = {w["id"]: w["role"] for w in api.ok(api.get("/websites"))["websites"]}
    assert roles == {site.website_id: "agent", created["id"]: "owner"}
    members = api.ok(api.get(f"/websites/{created['id']}/operators"))["operators"]
    assert [(m["id"], m["role"]) for m in members] == [(site.operator_ids["agent"], "owner")]
    for body, code in (
        ({"name": "", "origins": ["https://x.example"]}, "invalid_name"),
        ({"name": "X", "origins": []}, "invalid_request"),
        ({"name": "X", "origins": ["ftp://x.example"]}, "invalid_origin"),
        ({"name": "X"}, "invalid_request"),
    ):
        assert error_of(api.post("/websites", body), 422)["code"] == code, body
    assert harness.scalar("SELECT count(*) FROM websites") == 3


def test_website_settings_change_and_the_chatbox_gets_them(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    admin = As(http, site, "admin")
    path = f"/websites/{site.website_id}"
    changes = {
        "color": "#FF8800",
        "position": "left",
        "greeting": "  Bonjour ! Une question ?  ",
        "locale": "fr",
        "email_prompt": False,
    }
    website = admin.ok(admin.patch(path, {"name": "Shop FR", "settings": changes}))["website"]
    expected = {
        "color": "#ff8800",
        "position": "left",
        "greeting": "Bonjour ! Une question ?",
        "locale": "fr",
        "email_prompt": False,
    }
    assert website["settings"] == website["settings"] | expected
    assert website["name"] == "Shop FR"
    # Settings merge: one key changes, the others stay.
    merged = admin.ok(admin.patch(path, {"settings": {"locale": None}}))["website"]["settings"]
    assert merged == {**website["settings"], "locale": None}
    opened = http.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"page": PAGE},
        headers={"Origin": ORIGIN},
    ).json()
    assert opened["website"]["settings"] == merged
    assert opened["website"]["name"] == "Shop FR"
    assert harness.scalar("SELECT count(*) FROM audit_log WHERE action = 'website.update'") == 2


INVALID_WEBSITE_CHANGES: list[tuple[dict[str, Any], str, str]] = [
    ({"settings": {"color": "red"}}, "invalid_settings", "settings.color"),
    ({"settings": {"color": "#12345g"}}, "invalid_settings", "settings.color"),
    ({"settings": {"color": "#1234567"}}, "invalid_request", "settings.color"),
    ({"settings": {"color": None}}, "invalid_settings", "settings.color"),
    ({"settings": {"position": "top"}}, "invalid_request", "settings.position"),
    ({"settings": {"position": None}}, "invalid_settings", "settings.position"),
    ({"settings": {"greeting": "x" * 501}}, "invalid_request", "settings.greeting"),
    ({"settings": {"greeting": 42}}, "invalid_request", "settings.greeting"),
    ({"settings": {"locale": "de"}}, "invalid_request", "settings.locale"),
    ({"settings": {"email_prompt": "maybe"}}, "invalid_request", "settings.email_prompt"),
    ({"settings": {"email_prompt": None}}, "invalid_settings", "settings.email_prompt"),
    ({"settings": {"font": "Comic Sans"}}, "invalid_request", "settings.font"),
    ({"settings": {"color": "#000000", "font": "x"}}, "invalid_request", "settings.font"),
    ({"settings": "dark"}, "invalid_request", "settings"),
    ({"owner": "me"}, "invalid_request", "owner"),
    ({"origins": []}, "invalid_request", "origins"),
    ({"origins": "https://shop.example"}, "invalid_request", "origins"),
    ({"name": "x" * 201}, "invalid_request", "name"),
]


def test_invalid_website_changes_are_refused_and_change_nothing(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    admin = As(http, site, "admin")
    path = f"/websites/{site.website_id}"
    before = admin.ok(admin.get(path))["website"]
    for change, code, field in INVALID_WEBSITE_CHANGES:
        error = error_of(admin.patch(path, change), 422)
        assert error["code"] == code, (change, error)
        assert error["message"].startswith(field), (change, error)
    for change, code in (
        ({"origins": ["not an origin"]}, "invalid_origin"),
        ({"origins": ["https://new.example", "ftp://shop.example"]}, "invalid_origin"),
        ({"name": "   "}, "invalid_name"),
    ):
        assert error_of(admin.patch(path, change), 422)["code"] == code, change
    assert admin.ok(admin.get(path))["website"] == before
    assert harness.scalar("SELECT count(*) FROM audit_log WHERE action = 'website.update'") == 0


def test_origin_and_name_errors_name_the_field_first(http: httpx.Client, site: Site) -> None:
    admin = As(http, site, "admin")
    path = f"/websites/{site.website_id}"
    for change, field in (
        ({"origins": ["not an origin"]}, "origins"),
        ({"name": "   "}, "name"),
    ):
        error = error_of(admin.patch(path, change), 422)
        assert error["message"].startswith(field), (change, error)
    for body, field in (
        ({"name": "", "origins": ["https://x.example"]}, "name"),
        ({"name": "X", "origins": ["ftp://x.example"]}, "origins"),
    ):
        error = error_of(admin.post("/websites", body), 422)
        assert error["message"].startswith(field), (body, error)


def test_the_chatbox_and_cors_follow_the_origins_at_once(http: httpx.Client, site: Site) -> None:
    admin = As(http, site, "admin")
    new = "https://new-shop.example"
    assert new_visitor(http, site.website_id).token  # the server has seen the old origins
    admin.ok(admin.patch(f"/websites/{site.website_id}", {"origins": [new, ORIGIN]}))
    response = http.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"page": PAGE},
        headers={"Origin": new},
    )
    assert response.status_code == 201, response.text
    assert response.headers.get("access-control-allow-origin") == new

    admin.ok(admin.patch(f"/websites/{site.website_id}", {"origins": [new]}))
    refused = http.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"page": PAGE},
        headers={"Origin": ORIGIN},
    )
    assert error_of(refused, 403)["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in refused.headers

    blog = admin.ok(
        admin.post("/websites", {"name": "Blog", "origins": ["https://blog.example"]}), 201
    )
    opened = http.post(
        f"/api/widget/v1/websites/{blog['website']['id']}/session",
        json={"page": PAGE},
        headers={"Origin": "https://blog.example"},
    )
    assert opened.status_code == 201, opened.text
    assert opened.headers.get("access-control-allow-origin") == "https://blog.example"


def test_deleting_a_website_destroys_its_visitors_and_leaves_an_audit_entry_without_them(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    owner = As(http, site, "owner")
    personal = ["ada@mail.example", "Ada Lovelace", "my card 4242", VISITOR_IP]
    first = chat(
        http, site.website_id, "my card 4242", nickname="Ada Lovelace", email="ada@mail.example"
    )
    say(http, first, "still there?")
    chat(http, site.website_id, "second visitor")
    new_visitor(http, site.website_id)  # a visitor who never wrote
    harness.execute("UPDATE sessions SET ip = :ip", ip=VISITOR_IP)
    other = chat(http, site.other_website_id, "elsewhere", origin=OTHER_ORIGIN)

    def count(table: str, where: str) -> int:
        return int(harness.scalar(f"SELECT count(*) FROM {table} WHERE {where}", w=site.website_id))

    assert count("sessions", "website_id = :w") == 3
    response = owner.delete(f"/websites/{site.website_id}")
    assert owner.ok(response) == {"deleted": {"website_id": site.website_id, "conversations": 2}}
    assert count("websites", "id = :w") == 0
    assert count("sessions", "website_id = :w") == 0
    assert count("conversations", "website_id = :w") == 0
    assert count("memberships", "website_id = :w") == 0
    assert count("events", "stream = 'website:' || :w") == 0
    assert harness.scalar("SELECT count(*) FROM messages") == 1  # the other website's
    assert harness.scalar("SELECT count(*) FROM sessions") == 1
    assert harness.scalar("SELECT count(*) FROM conversations") == 1
    assert harness.scalar("SELECT count(*) FROM events WHERE session_id IS NOT NULL") == (
        harness.scalar("SELECT count(*) FROM events WHERE session_id = :s", s=other.session_id)
    )
    entries = harness.rows(
        "SELECT actor_type, actor_id, website_id, target_type, target_id, details "
        "FROM audit_log WHERE action = 'website.delete'"
    )
    assert len(entries) == 1
    assert entries[0][:5] == (
        "operator",
        site.operator_ids["owner"],
        site.website_id,
        "website",
        site.website_id,
    )
    flat = json.dumps([str(v) for v in entries[0]])
    for value in personal:
        assert value not in flat
    assert owner.ok(owner.get("/websites")) == {"websites": []}
    assert error_of(owner.get(f"/websites/{site.website_id}"), 404)["code"] == "website_not_found"
    other_owner = As(http, site, "other_owner")
    assert ids(other_owner.ok(other_owner.get(f"/websites/{site.other_website_id}/conversations")))
    gone = http.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"page": PAGE, "token": first.token},
        headers={"Origin": ORIGIN},
    )
    assert gone.status_code == 404


# -- operators of a website ----------------------------------------------------------------------


def test_operators_are_listed_and_invited(
    http: httpx.Client, site: Site, harness: Harness, server: ServerThread
) -> None:
    admin = As(http, site, "admin")
    path = f"/websites/{site.website_id}/operators"
    listed = admin.ok(admin.get(path))["operators"]
    assert {(m["email"], m["role"], m["pending"]) for m in listed} == {
        ("owner@shop.example", "owner", False),
        ("admin@shop.example", "admin", False),
        ("agent@shop.example", "agent", False),
    }
    assert {m["id"] for m in listed} == {site.operator_ids[r] for r in ("owner", "admin", "agent")}

    existing = admin.ok(
        admin.post(path, {"email": "Other_Owner@shop.example", "role": "agent"}), 201
    )
    # Someone with an account is invited too: they join by opening the link and logging in.
    assert existing["invitation_url"].startswith(f"{harness.settings.public_url}/app/#/invite")
    assert existing["operator"]["id"] == site.operator_ids["other_owner"]
    assert (existing["operator"]["role"], existing["operator"]["pending"]) == ("agent", True)

    fresh = admin.ok(admin.post(path, {"email": "Newbie@Mail.example", "role": "admin"}), 201)
    url = fresh["invitation_url"]
    assert url.startswith(f"{harness.settings.public_url}/app/#/invite?token=")
    assert fresh["operator"]["email"] == "newbie@mail.example"
    assert (fresh["operator"]["role"], fresh["operator"]["pending"]) == ("admin", True)
    listed = {m["email"]: m for m in admin.ok(admin.get(path))["operators"]}
    assert listed["newbie@mail.example"]["pending"] is True
    assert listed["other_owner@shop.example"]["role"] == "agent"
    assert "invitation_url" not in json.dumps(listed) and url.split("token=")[1] not in json.dumps(
        listed
    )
    token = url.split("token=")[1]
    link = http.post("/api/v1/auth/link", json={"token": token})
    assert link.status_code == 200, link.text
    assert link.json()["purpose"] == "invite"
    assert link.json()["email"] == "newbie@mail.example"

    for email in ("agent@shop.example", "newbie@mail.example", "OTHER_OWNER@shop.example"):
        again = admin.post(path, {"email": email, "role": "agent"})
        assert error_of(again, 409)["code"] == "already_member"
    assert error_of(admin.post(path, {"email": "not an email", "role": "agent"}), 422)
    assert error_of(admin.post(path, {"email": "x@mail.example", "role": "boss"}), 422)["code"] == (
        "invalid_request"
    )
    assert len(admin.ok(admin.get(path))["operators"]) == 5
    # Only an owner invites an owner.
    assert error_of(admin.post(path, {"email": "boss@mail.example", "role": "owner"}), 403)
    owner = As(http, site, "owner")
    boss = owner.ok(owner.post(path, {"email": "boss@mail.example", "role": "owner"}), 201)
    assert boss["operator"]["role"] == "owner" and boss["invitation_url"]


def test_role_changes_keep_owners_in_charge_and_an_owner_on_each_website(
    http: httpx.Client, site: Site
) -> None:
    admin, owner = As(http, site, "admin"), As(http, site, "owner")
    path = f"/websites/{site.website_id}/operators"

    def roles() -> dict[str, str]:
        return {m["id"]: m["role"] for m in owner.ok(owner.get(path))["operators"]}

    ids_ = site.operator_ids
    promoted = admin.ok(admin.patch(f"{path}/{ids_['agent']}", {"role": "admin"}))
    assert promoted["operator"]["role"] == "admin" and promoted["operator"]["id"] == ids_["agent"]
    assert admin.ok(admin.patch(f"{path}/{ids_['agent']}", {"role": "agent"}))

    before = roles()
    for target, role in (
        (ids_["agent"], "owner"),
        (ids_["owner"], "admin"),
        (ids_["admin"], "owner"),
    ):
        refused = admin.patch(f"{path}/{target}", {"role": role})
        assert error_of(refused, 403)["code"] == "forbidden", (target, role)
    assert error_of(admin.delete(f"{path}/{ids_['owner']}"), 403)["code"] == "forbidden"
    assert error_of(owner.patch(f"{path}/{ids_['owner']}", {"role": "admin"}), 409)["code"] == (
        "last_owner"
    )
    assert error_of(owner.delete(f"{path}/{ids_['owner']}"), 409)["code"] == "last_owner"
    assert error_of(admin.patch(f"{path}/nosuchoperator", {"role": "agent"}), 404)["code"] == (
        "operator_not_found"
    )
    other = ids_["other_owner"]
    assert error_of(owner.patch(f"{path}/{other}", {"role": "agent"}), 404)["code"] == (
        "operator_not_found"
    )
    assert error_of(admin.patch(f"{path}/{ids_['agent']}", {"role": "boss"}), 422)["code"] == (
        "invalid_request"
    )
    assert roles() == before

    assert (
        owner.ok(owner.patch(f"{path}/{ids_['admin']}", {"role": "owner"}))["operator"]["role"]
        == "owner"
    )
    # Two owners now: the first may step down, then the last one may not.
    assert owner.ok(owner.patch(f"{path}/{ids_['owner']}", {"role": "admin"}))
    new_owner = As(http, site, "admin")
    assert error_of(new_owner.delete(f"{path}/{ids_['admin']}"), 409)["code"] == "last_owner"
    assert roles() == {ids_["owner"]: "admin", ids_["admin"]: "owner", ids_["agent"]: "agent"}


def test_removing_an_operator_unassigns_their_conversations_and_says_so(
    http: httpx.Client, site: Site, server: ServerThread, sockets: list[Live]
) -> None:
    admin, agent_api = As(http, site, "admin"), As(http, site, "agent")
    agent_id = site.operator_ids["agent"]
    theirs = chat(http, site.website_id, "for the agent").conversation_id
    kept = chat(http, site.website_id, "for the admin").conversation_id
    admin.ok(admin.post(f"/conversations/{theirs}/assign", {"operator_id": agent_id}))
    admin.ok(
        admin.post(f"/conversations/{kept}/assign", {"operator_id": site.operator_ids["admin"]})
    )
    desk, _ = agent_socket(server, sockets, site, who="owner")

    assert admin.delete(f"/websites/{site.website_id}/operators/{agent_id}").status_code == 204
    pushed = desk.expect("conversation.updated")["conversation"]
    assert (pushed["id"], pushed["assignee_id"]) == (theirs, None)
    assert not [f for f in desk.barrier() if f["type"] == "conversation.updated"]
    assert admin.ok(admin.get(f"/conversations/{theirs}"))["conversation"]["assignee_id"] is None
    assert (
        admin.ok(admin.get(f"/conversations/{kept}"))["assignee"]["id"]
        == site.operator_ids["admin"]
    )
    assert ids(admin.ok(admin.get(conversations_path(site), assignee="none"))) == [theirs]
    members = {
        m["id"] for m in admin.ok(admin.get(f"/websites/{site.website_id}/operators"))["operators"]
    }
    assert agent_id not in members
    assert error_of(agent_api.get(f"/conversations/{theirs}"), 404)["code"] == (
        "conversation_not_found"
    )
    again = admin.delete(f"/websites/{site.website_id}/operators/{agent_id}")
    assert error_of(again, 404)["code"] == "operator_not_found"
    assigned = admin.post(f"/conversations/{theirs}/assign", {"operator_id": agent_id})
    assert error_of(assigned, 404)["code"] == "operator_not_found"


def test_an_agent_may_leave_a_website_but_not_remove_others(http: httpx.Client, site: Site) -> None:
    agent_api, owner = As(http, site, "agent"), As(http, site, "owner")
    path = f"/websites/{site.website_id}/operators"
    refused = agent_api.delete(f"{path}/{site.operator_ids['admin']}")
    assert error_of(refused, 403)["code"] == "forbidden"
    assert agent_api.delete(f"{path}/{site.operator_ids['agent']}").status_code == 204
    assert agent_api.ok(agent_api.get("/websites")) == {"websites": []}
    assert len(owner.ok(owner.get(path))["operators"]) == 2


# -- visitors online -----------------------------------------------------------------------------


def _visitors(api: As, site: Site) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.ok(api.get(f"/websites/{site.website_id}/visitors"))[
        "visitors"
    ]
    return found


def test_a_visitor_with_the_chatbox_open_is_listed_until_they_leave(
    http: httpx.Client, site: Site, server: ServerThread, sockets: list[Live], clock: ManualClock
) -> None:
    api = As(http, site, "agent")
    assert _visitors(api, site) == []
    who = new_visitor(http, site.website_id)
    clock.advance(timedelta(seconds=30))
    live, _ = visitor_socket(server, sockets, who, site.website_id)
    (entry,) = _visitors(api, site)
    assert entry["session_id"] == who.session_id
    assert entry["since"] == iso(clock.now())
    assert PAGE["url"] in json.dumps(entry) and PAGE["title"] in json.dumps(entry)
    assert "127.0.0.1" not in json.dumps(entry)
    other = As(http, site, "other_owner")
    assert other.ok(other.get(f"/websites/{site.other_website_id}/visitors"))["visitors"] == []

    live.close()
    wait_until(
        lambda: _visitors(api, site) == [], 5, lambda: f"still online: {_visitors(api, site)}"
    )


def test_visitors_online_carry_the_page_as_documented(
    http: httpx.Client, site: Site, server: ServerThread, sockets: list[Live]
) -> None:
    api = As(http, site, "agent")
    who = new_visitor(http, site.website_id)
    visitor_socket(server, sockets, who, site.website_id)
    (entry,) = _visitors(api, site)
    assert (entry["page_url"], entry["page_title"]) == (PAGE["url"], PAGE["title"])


def test_p3_statistics_are_daily_aggregates_without_personal_data(
    http: httpx.Client, site: Site, clock: ManualClock
) -> None:
    api = As(http, site, "agent")
    first = chat(http, site.website_id, "Where is my parcel 4242?", nickname="Ada Visitor")
    api.ok(
        api.post(
            f"/conversations/{first.conversation_id}/messages",
            {"client_id": "r1", "type": "text", "body": "On its way"},
        ),
        201,
    )
    api.ok(
        api.post(
            f"/conversations/{first.conversation_id}/messages",
            {"client_id": "n1", "type": "note", "body": "a note is not a message"},
        ),
        201,
    )
    clock.advance(timedelta(days=1))
    chat(http, site.website_id, "Hello again")
    stats = api.ok(api.get(f"/websites/{site.website_id}/stats", days=3))
    assert [d["day"] for d in stats["days"]] == sorted(d["day"] for d in stats["days"])
    assert len(stats["days"]) == 3
    assert stats["totals"] == {"conversations": 2, "visitor_messages": 2, "operator_messages": 1}
    today, yesterday = stats["days"][-1], stats["days"][-2]
    assert (yesterday["conversations"], yesterday["operator_messages"]) == (1, 1)
    assert (today["conversations"], today["visitor_messages"]) == (1, 1)
    text = json.dumps(stats)
    assert first.conversation_id is not None
    for personal in ("Ada", "4242", "parcel", first.conversation_id, "127.0.0.1"):
        assert personal not in text
