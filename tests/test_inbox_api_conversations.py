"""The inbox's REST API for conversations (`/api/v1`, docs/api.md "Agent side") over a real server,
on SQLite and PostgreSQL: what each call does, and what it pushes to the agents' and visitors'
sockets: the list and its pagination, threads, replies and notes, assignment and state, read
marks and visitors' profiles.

Who may call what is covered by the role tests (tests/test_api_roles.py); here every call is made
by a member allowed to make it. Time only moves when a test moves the ManualClock; socket frames
are awaited with the `Live` helpers' timeouts.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from causerie.clock import ManualClock
from causerie.domain.wire import iso
from tests.conftest import ORIGIN, Harness, ServerThread, Site
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
    stored,
    stored_until,
    visitor_socket,
)
from tests.test_errors import error_of

# -- the conversation list -------------------------------------------------------------------


def test_list_defaults_to_open_and_filters_by_state_and_assignee(
    http: httpx.Client, site: Site, clock: ManualClock
) -> None:
    api = As(http, site, "agent")
    made = []
    for text in ("nobody's", "the agent's", "the admin's", "resolved"):
        clock.advance(timedelta(seconds=1))
        made.append(chat(http, site.website_id, f"a question, {text}").conversation_id)
    free, mine, admins, done = made
    api.ok(api.post(f"/conversations/{mine}/assign", {"operator_id": site.operator_ids["agent"]}))
    api.ok(api.post(f"/conversations/{admins}/assign", {"operator_id": site.operator_ids["admin"]}))
    api.ok(api.post(f"/conversations/{done}/resolve"))

    def listed(who: As = api, **params: Any) -> list[str]:
        page = who.ok(who.get(conversations_path(site), **params))
        assert page["next_cursor"] is None
        return ids(page)

    assert listed() == [admins, mine, free]  # open only, newest activity first
    assert listed(state="open") == [admins, mine, free]
    assert listed(state="resolved") == [done]
    assert listed(state="all") == [done, admins, mine, free]
    assert listed(assignee="me") == [mine]
    assert listed(As(http, site, "admin"), assignee="me") == [admins]
    assert listed(As(http, site, "owner"), assignee="me") == []
    assert listed(assignee="none") == [free]
    assert listed(assignee="none", state="all") == [done, free]
    assert listed(assignee=site.operator_ids["admin"]) == [admins]
    assert listed(assignee=site.operator_ids["agent"], state="resolved") == []
    assert error_of(api.get(conversations_path(site), state="closed"), 422)["code"] == (
        "invalid_request"
    )


def test_search_covers_bodies_nickname_and_email_case_insensitively_with_literal_wildcards(
    http: httpx.Client, site: Site, clock: ManualClock
) -> None:
    api = As(http, site, "agent")
    parcel = chat(http, site.website_id, "My parcel is 100% late").conversation_id
    clock.advance(timedelta(seconds=1))
    leo = chat(http, site.website_id, "hello there", nickname="Leo_Martin").conversation_id
    clock.advance(timedelta(seconds=1))
    ada = chat(http, site.website_id, "hi", email="Ada.L@Mail.example").conversation_id
    clock.advance(timedelta(seconds=1))
    # Matches "100%" and "o_m" only if % and _ were wildcards ("1000", "zoom").
    decoy = chat(http, site.website_id, "zoom call about 1000 items").conversation_id
    clock.advance(timedelta(seconds=1))
    api.ok(
        api.post(
            f"/conversations/{ada}/messages",
            {"client_id": "n1", "type": "note", "body": "Refund approved"},
        ),
        201,
    )

    def found(q: str, **params: Any) -> list[str]:
        return ids(api.ok(api.get(conversations_path(site), q=q, **params)))

    assert found("PARCEL") == [parcel]
    assert found("100%") == [parcel]
    assert found("o_m") == [leo]
    assert found("leo_") == [leo]
    assert found("ada.l@mail") == [ada]
    assert found("MAIL.EXAMPLE") == [ada]
    assert found("  hello  ") == [leo]
    assert found("refund") == [ada]  # agents see notes, and find by them
    assert found("1000") == [decoy]
    assert found("%") == [parcel]
    assert found("_") == [leo]
    assert found("no such words") == []
    everything = ids(api.ok(api.get(conversations_path(site))))
    assert everything == [ada, decoy, leo, parcel]  # the note is the latest activity
    # `q=` given empty is refused, not read as no search (docs/api.md, "Query parameters").
    refused = api.get(conversations_path(site), q="")
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["message"].startswith("q: ")
    api.ok(api.post(f"/conversations/{parcel}/resolve"))
    assert found("parcel") == []
    assert found("parcel", state="all") == [parcel]
    assert found("parcel", state="resolved") == [parcel]


def test_search_folds_the_case_of_accented_letters(
    http: httpx.Client, site: Site, harness: Harness, request: pytest.FixtureRequest
) -> None:
    api = As(http, site, "agent")
    elodie = chat(http, site.website_id, "Bonjour", nickname="ÉLODIE").conversation_id
    chat(http, site.website_id, "Ça ne marche pas, ÉTÉ 2025")
    assert ids(api.ok(api.get(conversations_path(site), q="élodie"))) == [elodie]
    assert len(ids(api.ok(api.get(conversations_path(site), q="ça ne marche")))) == 1


def test_keyset_pagination_gives_every_conversation_once_and_is_stable_under_new_messages(
    http: httpx.Client, site: Site, clock: ManualClock
) -> None:
    """7 conversations, some with the same last activity (ties are broken by id), pages of 3.

    Observed and documented: a new message on a conversation already paged moves it to the top
    of the list; the pages still to come are unaffected (no duplicate, no gap), and a fresh first
    page shows it first.
    """
    api = As(http, site, "agent")
    visitors = []
    for i in range(7):
        if i % 2 == 0:
            clock.advance(timedelta(seconds=1, microseconds=123_457))  # pairs 0-1, 2-3, 4-5 tie
        visitors.append(chat(http, site.website_id, f"conversation {i}"))
    everything = api.ok(api.get(conversations_path(site), limit=100))
    order = ids(everything)
    assert len(order) == 7 and set(order) == {v.conversation_id for v in visitors}
    stamps = [c["last_message_at"] for c in everything["conversations"]]
    assert stamps == sorted(stamps, reverse=True)
    for a, b in zip(everything["conversations"], everything["conversations"][1:], strict=False):
        if a["last_message_at"] == b["last_message_at"]:
            assert a["id"] > b["id"]

    first = api.ok(api.get(conversations_path(site), limit=3))
    assert ids(first) == order[:3] and first["next_cursor"]
    # A visitor of the first page writes again, between the first page and the next ones.
    clock.advance(timedelta(seconds=5))
    moved = first["conversations"][1]["id"]
    say(http, next(v for v in visitors if v.conversation_id == moved), "me again")

    second = api.ok(api.get(conversations_path(site), limit=3, cursor=first["next_cursor"]))
    assert ids(second) == order[3:6] and second["next_cursor"]
    third = api.ok(api.get(conversations_path(site), limit=3, cursor=second["next_cursor"]))
    assert ids(third) == order[6:] and third["next_cursor"] is None
    paged = ids(first) + ids(second) + ids(third)
    assert sorted(paged) == sorted(order) and len(set(paged)) == 7

    fresh = api.ok(api.get(conversations_path(site), limit=3))
    assert ids(fresh) == [moved, *[i for i in order if i != moved][:2]]
    assert fresh["conversations"][0]["last_message"]["body"] == "me again"
    # A page that ends exactly with the last conversation has no cursor to an empty page.
    seven = api.ok(api.get(conversations_path(site), limit=7))
    assert len(ids(seven)) == 7 and seven["next_cursor"] is None


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


BAD_LIST_PARAMETERS: list[tuple[dict[str, Any], str]] = [
    ({"cursor": "not a cursor!"}, "invalid_cursor"),
    ({"cursor": _cursor("2026-01-01T12:00:00+00:00|")}, "invalid_cursor"),
    ({"cursor": _cursor("2026-01-01T12:00:00|abc")}, "invalid_cursor"),  # no time zone
    ({"cursor": _cursor("yesterday|abc")}, "invalid_cursor"),
    ({"cursor": "x" * 201}, "invalid_request"),
    ({"limit": 0}, "invalid_request"),
    ({"limit": 101}, "invalid_request"),
    ({"limit": -1}, "invalid_request"),
    ({"limit": "ten"}, "invalid_request"),
    ({"state": "closed"}, "invalid_request"),
    ({"assignee": "x" * 65}, "invalid_request"),
    ({"q": "x" * 201}, "invalid_request"),
]


def test_bad_list_parameters_are_refused_and_limit_bounds_are_inclusive(
    http: httpx.Client, site: Site
) -> None:
    api = As(http, site, "agent")
    for params, code in BAD_LIST_PARAMETERS:
        error = error_of(api.get(conversations_path(site), **params), 422)
        assert error["code"] == code, (params, error)
        assert error["message"].startswith(next(iter(params))), (params, error)
    chat(http, site.website_id, "one")
    chat(http, site.website_id, "two")
    one = api.ok(api.get(conversations_path(site), limit=1))
    assert len(one["conversations"]) == 1 and one["next_cursor"]
    two = api.ok(api.get(conversations_path(site), limit=1, cursor=one["next_cursor"]))
    assert len(two["conversations"]) == 1 and two["next_cursor"] is None
    assert len(api.ok(api.get(conversations_path(site), limit=100))["conversations"]) == 2


def test_summary_carries_the_visitor_and_a_200_character_preview_notes_included(
    http: httpx.Client, site: Site, clock: ManualClock
) -> None:
    api = As(http, site, "agent")
    long = "Bonjour, " + "é" * 300
    who = chat(http, site.website_id, long, nickname="Ada", email="ada@mail.example")
    (summary,) = api.ok(api.get(conversations_path(site)))["conversations"]
    assert summary["id"] == who.conversation_id
    assert summary["session_id"] == who.session_id
    assert summary["website_id"] == site.website_id
    assert summary["visitor"] == {"nickname": "Ada", "email": "ada@mail.example"}
    last = summary["last_message"]
    assert last["body"] == long[:200] and last["author"] == "visitor" and last["type"] == "text"
    assert summary["unread"] == 1 and summary["state"] == "open"
    assert summary["assignee_id"] is None
    thread = api.ok(api.get(f"/conversations/{who.conversation_id}"))
    assert thread["messages"][-1]["body"] == long  # the thread keeps the whole body

    clock.advance(timedelta(seconds=1))
    note = "n" * 250
    api.ok(
        api.post(
            f"/conversations/{who.conversation_id}/messages",
            {"client_id": "note-1", "type": "note", "body": note},
        ),
        201,
    )
    (summary,) = api.ok(api.get(conversations_path(site)))["conversations"]
    last = summary["last_message"]
    assert (last["type"], last["author"], last["body"]) == ("note", "operator", note[:200])
    assert last["operator"]["id"] == site.operator_ids["agent"]
    assert summary["last_message_at"] == iso(clock.now())


# -- a conversation ------------------------------------------------------------------------------


def test_thread_shows_the_visitor_context_and_the_latest_50_messages_never_the_ip(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    api = As(http, site, "agent")
    who = new_visitor(
        http,
        site.website_id,
        locale="fr-FR",
        timezone="Europe/Paris",
        headers={"User-Agent": "Mozilla/5.0 (X11; Linux) Firefox/128.0"},
    )
    assert harness.scalar("SELECT ip FROM sessions") == "127.0.0.1"
    harness.execute("UPDATE sessions SET ip = :ip", ip=VISITOR_IP)
    bodies = ["message 0"]
    say(http, who, "message 0")
    conversation_id = who.conversation_id
    for i in range(1, 53):
        kind = "note" if i % 5 == 0 else "text"
        body = f"{kind} {i}"
        api.ok(
            api.post(
                f"/conversations/{conversation_id}/messages",
                {"client_id": f"c{i}", "type": kind, "body": body},
            ),
            201,
        )
        bodies.append(body)

    response = api.get(f"/conversations/{conversation_id}")
    thread = api.ok(response)
    assert VISITOR_IP not in response.text and "127.0.0.1" not in response.text
    assert [m["body"] for m in thread["messages"]] == bodies[-50:]
    assert {m["type"] for m in thread["messages"]} == {"text", "note"}
    assert thread["conversation"]["id"] == conversation_id
    assert thread["conversation"]["session_id"] == who.session_id
    assert thread["assignee"] is None
    session = thread["session"]
    assert session["id"] == who.session_id
    assert session["page"] == PAGE
    assert (session["locale"], session["timezone"]) == ("fr-FR", "Europe/Paris")
    assert session["user_agent"] == "Mozilla/5.0 (X11; Linux) Firefox/128.0"
    assert session["profile"] == {"nickname": None, "email": None, "phone": None, "data": {}}
    assert "ip" not in session

    path = f"/conversations/{conversation_id}/messages"
    older = api.ok(api.get(path, before=thread["messages"][0]["id"]))["messages"]
    assert [m["body"] for m in older] == bodies[:3]
    two = api.ok(api.get(path, before=thread["messages"][0]["id"], limit=2))["messages"]
    assert [m["body"] for m in two] == bodies[1:3]
    assert api.ok(api.get(path, before=older[0]["id"]))["messages"] == []
    latest = api.ok(api.get(path, limit=3))["messages"]
    assert [m["body"] for m in latest] == bodies[-3:]
    assert error_of(api.get(path, before="nosuchmessage"), 404)["code"] == "message_not_found"
    elsewhere = chat(http, site.website_id, "another visitor")
    assert elsewhere.conversation_id
    foreign_id = api.ok(api.get(f"/conversations/{elsewhere.conversation_id}"))["messages"][0]["id"]
    assert error_of(api.get(path, before=foreign_id), 404)["code"] == "message_not_found"
    assert error_of(api.get(path, limit=0), 422)["code"] == "invalid_request"

    api.ok(
        api.post(
            f"/conversations/{conversation_id}/assign", {"operator_id": site.operator_ids["admin"]}
        )
    )
    thread = api.ok(api.get(f"/conversations/{conversation_id}"))
    assert thread["assignee"]["id"] == site.operator_ids["admin"]
    assert thread["assignee"]["email"] == "admin@shop.example"
    assert thread["conversation"]["assignee_id"] == site.operator_ids["admin"]

    for response in (
        api.get(f"/sessions/{who.session_id}"),
        api.get(conversations_path(site), state="all"),
        api.patch(f"/sessions/{who.session_id}/profile", {"nickname": "Ada"}),
    ):
        assert response.status_code == 200, response.text
        assert VISITOR_IP not in response.text and "127.0.0.1" not in response.text
    detail = api.ok(api.get(f"/sessions/{who.session_id}"))
    assert detail["conversation_id"] == conversation_id
    assert error_of(api.get("/conversations/nosuchconversation"), 404)["code"] == (
        "conversation_not_found"
    )


def test_a_reply_reaches_the_visitor_and_a_note_never_does(
    http: httpx.Client, site: Site, server: ServerThread, sockets: list[Live], harness: Harness
) -> None:
    api = As(http, site, "agent")
    who = chat(http, site.website_id, "Is anyone there?")
    live, _ = visitor_socket(server, sockets, who, site.website_id)
    path = f"/conversations/{who.conversation_id}/messages"

    note = api.ok(api.post(path, {"client_id": "n1", "type": "note", "body": "INTERNAL: VIP"}), 201)
    assert note["message"]["type"] == "note" and note["message"]["author"] == "operator"
    reply = api.ok(api.post(path, {"client_id": "r1", "type": "text", "body": "Hello!"}), 201)
    message = reply["message"]
    assert (message["author"], message["type"], message["body"]) == ("operator", "text", "Hello!")
    assert message["operator"]["id"] == site.operator_ids["agent"]
    assert message["conversation_id"] == who.conversation_id and message["client_id"] == "r1"

    created = live.expect("message.created")
    assert created["message"] == message  # the first message the visitor hears of is the reply
    live.barrier()
    assert "INTERNAL" not in json.dumps(live.seen)
    widget = http.get("/api/widget/v1/session/messages", headers=who.headers())
    assert widget.status_code == 200
    assert [m["body"] for m in widget.json()["messages"]] == ["Is anyone there?", "Hello!"]
    renewed = http.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"page": PAGE, "token": who.token},
        headers={"Origin": ORIGIN},
    ).json()
    assert "INTERNAL" not in json.dumps(renewed)

    again = api.post(path, {"client_id": "r1", "type": "text", "body": "Hello again?"})
    assert api.ok(again, 200) == reply
    note_again = api.post(path, {"client_id": "n1", "type": "note", "body": "other"})
    assert api.ok(note_again, 200) == note
    assert harness.scalar("SELECT count(*) FROM messages") == 3

    for body, code in (
        ({"client_id": "e1", "type": "text", "body": ""}, "empty_message"),
        ({"client_id": "e2", "type": "note", "body": " \n\t "}, "empty_message"),
        ({"client_id": "e3", "type": "text", "body": "x" * 10_001}, "message_too_long"),
        ({"client_id": "bad id!", "type": "text", "body": "hi"}, "invalid_client_id"),
        ({"client_id": "e4", "type": "file", "body": "hi"}, "invalid_message_type"),
        ({"client_id": "e5", "type": "text"}, "invalid_request"),
        ({"client_id": "e6", "type": "text", "body": "hi", "extra": 1}, "invalid_request"),
    ):
        assert error_of(api.post(path, body), 422)["code"] == code, body
    assert harness.scalar("SELECT count(*) FROM messages") == 3
    longest = api.post(path, {"client_id": "max", "type": "text", "body": "y" * 10_000})
    assert api.ok(longest, 201)["message"]["body"] == "y" * 10_000
    assert (
        error_of(api.post("/conversations/nope/messages", {"client_id": "z", "body": "hi"}), 404)[
            "code"
        ]
        == "conversation_not_found"
    )


# -- assignment, state, events -------------------------------------------------------------------


def test_assign_resolve_reopen_are_pushed_in_order_and_replayed_exactly_once(
    http: httpx.Client, site: Site, server: ServerThread, sockets: list[Live], harness: Harness
) -> None:
    api = As(http, site, "agent")
    who = chat(http, site.website_id, "first")
    conversation_id = who.conversation_id
    desk, ready = agent_socket(server, sockets, site)
    start = ready["seq"]
    path = f"/conversations/{conversation_id}"

    def updated() -> dict[str, Any]:
        frame = desk.expect("conversation.updated")
        conversation: dict[str, Any] = frame["conversation"]
        assert conversation["id"] == conversation_id
        return conversation

    agent_id = site.operator_ids["agent"]
    assert (
        api.ok(api.post(path + "/assign", {"operator_id": agent_id}))["conversation"]["assignee_id"]
        == agent_id
    )
    assert updated()["assignee_id"] == agent_id
    assert (
        api.ok(api.post(path + "/assign", {"operator_id": agent_id}))["conversation"]["assignee_id"]
        == agent_id
    )  # the same assignee again: nothing to tell

    for stranger in (site.operator_ids["other_owner"], "nosuchoperator"):
        refused = api.post(path + "/assign", {"operator_id": stranger})
        assert error_of(refused, 404)["code"] == "operator_not_found"
    assert api.ok(api.get(path))["conversation"]["assignee_id"] == agent_id

    assert (
        api.ok(api.post(path + "/assign", {"operator_id": None}))["conversation"]["assignee_id"]
        is None
    )
    assert updated()["assignee_id"] is None
    assert error_of(api.post(path + "/assign", {}), 422)["code"] == "invalid_request"

    resolved = api.ok(api.post(path + "/resolve"))["conversation"]
    assert resolved["state"] == "resolved"
    assert updated()["state"] == "resolved"
    assert api.ok(api.post(path + "/resolve"))["conversation"]["state"] == "resolved"
    assert ids(api.ok(api.get(conversations_path(site)))) == []

    say(http, who, "one more thing")  # a visitor writing reopens it
    assert updated()["state"] == "open"
    assert api.ok(api.get(path))["conversation"]["state"] == "open"

    api.ok(api.post(path + "/resolve"))
    assert updated()["state"] == "resolved"
    assert api.ok(api.post(path + "/reopen"))["conversation"]["state"] == "open"
    assert updated()["state"] == "open"
    assert api.ok(api.post(path + "/reopen"))["conversation"]["state"] == "open"

    live = stored(desk.seen) + stored(desk.barrier())
    seqs = [f["seq"] for f in live]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs) and seqs[0] > start
    changes = [f["conversation"] for f in live if f["type"] == "conversation.updated"]
    assert [(c["assignee_id"], c["state"]) for c in changes] == [
        (agent_id, "open"),
        (None, "open"),
        (None, "resolved"),
        (None, "open"),
        (None, "resolved"),
        (None, "open"),
    ]
    assert (
        harness.scalar(
            "SELECT count(*) FROM events WHERE stream = :s AND type = 'conversation.updated'",
            s=f"website:{site.website_id}",
        )
        == 1 + 6
    )  # the conversation's start, then the six changes

    back, again = agent_socket(server, sockets, site, after=start)
    assert again["seq"] == seqs[-1]
    replayed = stored_until(back, seqs[-1])
    assert [(f["seq"], f["type"]) for f in replayed] == [(f["seq"], f["type"]) for f in live]
    # Replay rebuilds each event from the live tables: every one shows the state as it is now.
    assert {f["conversation"]["state"] for f in replayed if "conversation" in f} == {"open"}
    # And from the middle: only what follows.
    middle = seqs[len(seqs) // 2]
    tail, _ = agent_socket(server, sockets, site, after=middle)
    assert [f["seq"] for f in stored_until(tail, seqs[-1])] == [s for s in seqs if s > middle]


def test_mark_read_moves_the_operators_mark_and_unread_count(
    http: httpx.Client, site: Site, server: ServerThread, sockets: list[Live]
) -> None:
    api = As(http, site, "agent")
    who = chat(http, site.website_id, "one")
    m2, m3 = say(http, who, "two"), say(http, who, "three")
    path = f"/conversations/{who.conversation_id}"
    assert api.ok(api.get(conversations_path(site)))["conversations"][0]["unread"] == 3
    desk, _ = agent_socket(server, sockets, site)

    conversation = api.ok(api.post(path + "/read", {"up_to": m2["id"]}))["conversation"]
    assert conversation["unread"] == 1
    assert conversation["read_up_to"] == {"visitor": None, "operator": m2["id"]}
    read = desk.expect("read")
    assert (read["conversation_id"], read["by"], read["up_to"]) == (
        who.conversation_id,
        "operator",
        m2["id"],
    )

    reply = api.ok(api.post(path + "/messages", {"client_id": "r", "body": "hi"}), 201)["message"]
    thread = api.ok(api.get(path))["conversation"]
    assert (thread["unread"], thread["unread_by_visitor"]) == (1, 1)

    backwards = api.ok(api.post(path + "/read", {"up_to": who_first(api, path)}))["conversation"]
    assert backwards["read_up_to"]["operator"] == m2["id"] and backwards["unread"] == 1
    done = api.ok(api.post(path + "/read", {"up_to": m3["id"]}))["conversation"]
    assert (done["unread"], done["read_up_to"]["operator"]) == (0, m3["id"])
    assert api.ok(api.post(path + "/read", {"up_to": reply["id"]}))["conversation"]["unread"] == 0
    assert error_of(api.post(path + "/read", {"up_to": "nosuchmessage"}), 404)["code"] == (
        "message_not_found"
    )
    assert error_of(api.post(path + "/read", {}), 422)["code"] == "invalid_request"
    summary = api.ok(api.get(conversations_path(site)))["conversations"][0]
    assert summary["unread"] == 0 and summary["read_up_to"]["operator"] == reply["id"]


def who_first(api: As, path: str) -> str:
    first: str = api.ok(api.get(path))["messages"][0]["id"]
    return first


# -- visitors' profiles --------------------------------------------------------------------------


def test_an_agent_corrects_a_visitors_profile_and_both_sides_hear_of_it(
    http: httpx.Client, site: Site, server: ServerThread, sockets: list[Live], harness: Harness
) -> None:
    api = As(http, site, "agent")
    who = chat(http, site.website_id, "hello")
    harness.execute("UPDATE sessions SET ip = :ip", ip=VISITOR_IP)
    desk, _ = agent_socket(server, sockets, site)
    live, _ = visitor_socket(server, sockets, who, site.website_id)
    path = f"/sessions/{who.session_id}/profile"

    first = {
        "nickname": "Ada",
        "email": "ada@mail.example",
        "phone": "+33 1 23 45 67 89",
        "data": {"plan": "pro", "seats": 3},
    }
    session = api.ok(api.patch(path, first))["session"]
    profile = {k: first[k] for k in ("nickname", "email", "phone", "data")}
    assert session["profile"] == profile
    seen_by_agents = desk.expect("session.updated")
    assert seen_by_agents["session"]["profile"] == profile
    assert seen_by_agents["session"]["page"]["url"] == PAGE["url"]
    assert VISITOR_IP not in json.dumps(seen_by_agents)
    seen_by_visitor = live.expect("session.updated")
    assert seen_by_visitor["session"]["profile"] == profile
    assert "page" not in seen_by_visitor["session"]  # the visitor's own view

    second = api.ok(api.patch(path, {"phone": None, "data": {"seats": None, "vip": True}}))
    assert second["session"]["profile"] == {
        "nickname": "Ada",
        "email": "ada@mail.example",
        "phone": None,
        "data": {"plan": "pro", "vip": True},
    }
    assert desk.expect("session.updated")["session"]["profile"]["phone"] is None
    assert live.expect("session.updated")["session"]["profile"]["data"] == {
        "plan": "pro",
        "vip": True,
    }

    for body, code in (
        ({"email": "not-an-email", "nickname": "Bob"}, "invalid_email"),
        ({"phone": "call me maybe"}, "invalid_phone"),
        ({"data": {"nested": {"a": 1}}}, "invalid_data"),
        ({"ip": "1.2.3.4"}, "invalid_request"),
    ):
        assert error_of(api.patch(path, body), 422)["code"] == code, body
    after = api.ok(api.get(f"/sessions/{who.session_id}"))["session"]["profile"]
    assert after == second["session"]["profile"]
    assert not [f for f in desk.barrier() + live.barrier() if f["type"] == "session.updated"]
    renewed = http.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"page": PAGE, "token": who.token},
        headers={"Origin": ORIGIN},
    ).json()
    assert renewed["session"]["profile"] == after
    assert harness.scalar("SELECT count(*) FROM audit_log WHERE action = 'visitor.profile'") == 2
    missing = api.patch("/sessions/nosuchsession/profile", {"nickname": "X"})
    assert error_of(missing, 404)["code"] == "session_not_found"
