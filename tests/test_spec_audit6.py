"""Contracts of SPEC.md checked by small client programs written from it (sixth outside audit,
branch audit6, 2026-12-07).

Clients written from SPEC.md alone, over real servers' sockets (one node on SQLite; two nodes
on PostgreSQL and Redis), found these (each test fails before its fix): an operator's read mark
on a private note or an event line (the inbox marks the thread's last message read, often the
agent's own note) was told to the visitor as it was: the note's id reached the visitor's stream,
their chatbox load and its replays, and the chatbox, which never had that message, showed no
"Seen" at all; and the visitor's view of their conversation carried its `last_message_at` and
`updated_at`, which a note (or an assignment) moves: when agents wrote about them. Read marks
and conversations are stored and told on both streams, so this runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import timedelta

import httpx

from causerie.clock import ManualClock
from tests.conftest import Harness, ServerThread, Site
from tests.live import Live, agent, visitor
from tests.test_session_endpoint import open_session, send


def owner(site: Site) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.tokens['owner']}"}


def _visitor_asks(http: httpx.Client, site: Site) -> tuple[str, str, str]:
    """A visitor's token, their conversation and their message."""
    token = open_session(http, site.website_id).json()["token"]
    sent = send(http, token, "Where is my order?", client_id="v1")
    assert sent.status_code == 201, sent.text
    message = sent.json()["message"]
    return token, message["conversation_id"], message["id"]


def _everything_the_visitor_is_told(
    http: httpx.Client, server: ServerThread, sockets: list[Live], site: Site, token: str
) -> str:
    """The visitor's chatbox load and the replay of their whole stream, as one text."""
    load = open_session(http, site.website_id, token=token).json()
    live, ready = visitor(server.url, token, after=0, website_id=site.website_id)
    sockets.append(live)
    frames = live.until_seq(ready["seq"])
    return json.dumps([load, ready, frames])


def test_an_operators_read_mark_on_a_note_names_the_last_message_the_visitor_sees(
    server: ServerThread, http: httpx.Client, site: Site, sockets: list[Live], harness: Harness
) -> None:
    """The inbox marks the thread's last message read: the agent's own note, after a reply."""
    token, conversation_id, asked = _visitor_asks(http, site)
    watching, _ = visitor(server.url, token, website_id=site.website_id)
    sockets.append(watching)
    note = http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        headers=owner(site),
        json={"client_id": "n1", "type": "note", "body": "VIP customer, refund at once"},
    ).json()["message"]
    read = http.post(
        f"/api/v1/conversations/{conversation_id}/read",
        headers=owner(site),
        json={"up_to": note["id"]},
    )
    assert read.status_code == 200, read.text
    conversation = read.json()["conversation"]
    assert conversation["read_up_to"]["operator"] == asked
    assert conversation["unread"] == 0
    (told,) = [f for f in watching.until(lambda fs: any(f["type"] == "read" for f in fs), "read")
               if f["type"] == "read"]  # fmt: skip
    assert (told["by"], told["up_to"]) == ("operator", asked)
    seen = _everything_the_visitor_is_told(http, server, sockets, site, token)
    assert note["id"] not in seen
    assert json.loads(seen)[0]["read_up_to"] == {"visitor": None, "operator": asked}
    stored = harness.scalar(
        "SELECT operator_read_up_to FROM conversations WHERE id = :c", c=conversation_id
    )
    assert stored == asked


def test_an_agent_sockets_read_of_an_event_line_marks_the_message_before_it(
    server: ServerThread, http: httpx.Client, site: Site, sockets: list[Live]
) -> None:
    """A transfer's event line (agents only) ends the thread; the agent's socket reads it."""
    token, conversation_id, asked = _visitor_asks(http, site)
    reply = http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        headers=owner(site),
        json={"client_id": "r1", "body": "Let me check."},
    ).json()["message"]
    transferred = http.post(
        f"/api/v1/conversations/{conversation_id}/transfer",
        headers=owner(site),
        json={"operator_id": site.operator_ids["agent"]},
    )
    assert transferred.status_code == 200, transferred.text
    thread = http.get(f"/api/v1/conversations/{conversation_id}", headers=owner(site)).json()
    line = thread["messages"][-1]
    assert line["type"] == "event"
    live, _ = agent(server.url, site.tokens["agent"], site.website_id)
    sockets.append(live)
    live.send({"type": "read", "up_to": line["id"], "conversation_id": conversation_id})
    told = live.expect("read")
    assert (told["by"], told["up_to"]) == ("operator", reply["id"])
    assert told["up_to"] != asked
    seen = _everything_the_visitor_is_told(http, server, sockets, site, token)
    assert line["id"] not in seen
    assert json.loads(seen)[0]["read_up_to"]["operator"] == reply["id"]


def test_a_read_mark_already_past_a_note_does_not_move_nor_tell_again(
    server: ServerThread, http: httpx.Client, site: Site, sockets: list[Live]
) -> None:
    token, conversation_id, asked = _visitor_asks(http, site)
    path = f"/api/v1/conversations/{conversation_id}"
    assert http.post(f"{path}/read", headers=owner(site), json={"up_to": asked}).is_success
    note = http.post(
        f"{path}/messages", headers=owner(site), json={"client_id": "n1", "type": "note",
                                                       "body": "noted"},
    ).json()["message"]  # fmt: skip
    watching, _ = visitor(server.url, token, website_id=site.website_id)
    sockets.append(watching)
    again = http.post(f"{path}/read", headers=owner(site), json={"up_to": note["id"]})
    assert again.json()["conversation"]["read_up_to"]["operator"] == asked
    # A message after it: the visitor's stream shows nothing between (no second `read`).
    reply = http.post(f"{path}/messages", headers=owner(site), json={"client_id": "r1",
                                                                     "body": "Hi"})  # fmt: skip
    created = watching.expect("message.created")
    assert created["message"]["id"] == reply.json()["message"]["id"]
    assert [f for f in watching.seen if f["type"] == "read"] == []


def test_the_visitors_view_of_the_conversation_holds_no_time_a_note_moved(
    server: ServerThread, http: httpx.Client, site: Site, sockets: list[Live], clock: ManualClock
) -> None:
    """A note (or an assignment) moved `last_message_at` and `updated_at`, which the visitor's
    `conversation.updated` carried, live and replayed: when agents wrote about them."""
    token, conversation_id, _ = _visitor_asks(http, site)
    clock.advance(timedelta(minutes=7))
    note = http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        headers=owner(site),
        json={"client_id": "n1", "type": "note", "body": "check the refund"},
    ).json()["message"]
    watching, _ = visitor(server.url, token, website_id=site.website_id)
    sockets.append(watching)
    resolved = http.post(f"/api/v1/conversations/{conversation_id}/resolve", headers=owner(site))
    assert resolved.json()["conversation"]["last_message_at"] == note["created_at"]  # agents'
    live = watching.expect("conversation.updated")["conversation"]
    seen = _everything_the_visitor_is_told(http, server, sockets, site, token)
    assert note["created_at"] not in seen
    assert set(live) == {"id", "state", "unread", "read_up_to"}
    assert live["state"] == "resolved"
