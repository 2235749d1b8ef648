"""The WebSocket protocol over real sockets, on SQLite and PostgreSQL (docs/realtime.md)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from causerie.settings import Settings
from tests.conftest import OTHER_ORIGIN, Harness, ServerThread, Site
from tests.live import PATIENCE, Live, agent, visitor, ws_url
from tests.test_session_endpoint import PAGE, open_session


@pytest.fixture
def clients() -> Iterator[list[Live]]:
    opened: list[Live] = []
    yield opened
    for live in opened:
        live.close()


@pytest.fixture
def token(http: httpx.Client, site: Site) -> str:
    token: str = open_session(http, site.website_id).json()["token"]
    return token


def _visitor(
    server: ServerThread, clients: list[Live], token: str, **kw: Any
) -> tuple[Live, dict[str, Any]]:
    live, ready = visitor(server.url, token, **kw)
    clients.append(live)
    return live, ready


def _agent(
    server: ServerThread, clients: list[Live], site: Site, who: str = "agent", **kw: Any
) -> tuple[Live, dict[str, Any]]:
    live, ready = agent(server.url, site.tokens[who], kw.pop("website_id", site.website_id), **kw)
    clients.append(live)
    return live, ready


def send(live: Live, body: str, client_id: str, **extra: Any) -> dict[str, Any]:
    live.send({"type": "message.send", "client_id": client_id, "body": body, **extra})
    return live.expect("message.ack", client_id=client_id)


def position(harness: Harness, ready: dict[str, Any]) -> int:
    """The last seq of a visitor socket's stream, from the database: once acked, what it reaches."""
    stream = f"session:{ready['session']['id']}"
    return int(harness.scalar("SELECT last_seq FROM streams WHERE stream = :s", s=stream) or 0)


def test_p15_visitor_and_agent_chat_live_and_the_session_turns_permanent(
    server: ServerThread, clients: list[Live], site: Site, token: str, harness: Harness
) -> None:
    desk, desk_ready = _agent(server, clients, site)
    assert desk_ready["seq"] == 0 and desk_ready["website_id"] == site.website_id
    chat, ready = _visitor(server, clients, token)
    assert ready["seq"] == 0 and ready["session"]["state"] == "temporary"
    assert ready["availability"] == {"online": True}

    ack = send(chat, "Hello, anyone?", "v1")
    # The ack comes after the write: the message is in the database when the client hears of it.
    assert (
        harness.scalar("SELECT body FROM messages WHERE id = :id", id=ack["message"]["id"])
        == "Hello, anyone?"
    )
    assert harness.scalar("SELECT state FROM sessions") == "permanent"
    created = chat.expect("message.created")
    assert created["message"] == ack["message"] and created["seq"] >= 1

    seen = desk.expect("message.created")
    assert seen["message"]["body"] == "Hello, anyone?"
    conversation_id = seen["message"]["conversation_id"]
    reply = send(desk, "Yes, how can I help?", "a1", conversation_id=conversation_id)
    assert reply["message"]["author"] == "operator"
    assert reply["message"]["operator"]["id"] == site.operator_ids["agent"]
    assert chat.expect("message.created")["message"]["body"] == "Yes, how can I help?"


def test_every_stored_event_carries_an_increasing_seq_starting_at_1(
    server: ServerThread, clients: list[Live], site: Site, token: str, harness: Harness
) -> None:
    chat, ready = _visitor(server, clients, token)
    for i in range(3):
        send(chat, f"m{i}", f"c{i}")
    last = position(harness, ready)
    chat.until_seq(last)
    chat.barrier()  # and nothing more queued for the socket: no event twice
    frames = chat.stored(chat.seen)
    seqs = [f["seq"] for f in frames]
    assert seqs == list(range(1, last + 1))
    assert [f["message"]["body"] for f in frames if f["type"] == "message.created"][:3] == [
        "m0",
        "m1",
        "m2",
    ]


def test_same_client_id_stores_one_message_and_acks_twice_with_it(
    server: ServerThread, clients: list[Live], site: Site, token: str, harness: Harness
) -> None:
    chat, _ = _visitor(server, clients, token)
    first = send(chat, "once", "dup")
    second = send(chat, "once", "dup")
    assert first["message"] == second["message"]
    assert harness.scalar("SELECT count(*) FROM messages") == 1
    # The barrier: a later message's event, published after anything the resend could have.
    later = send(chat, "later", "after-dup")["message"]
    chat.seen_or_next("message.created", message=later)
    created = [f for f in chat.seen if f["type"] == "message.created" and f["message"] != later]
    assert [f["message"] for f in created] == [first["message"]]


def test_resume_delivers_every_missed_event_once_in_order_then_live(
    server: ServerThread, clients: list[Live], site: Site, token: str, harness: Harness
) -> None:
    chat, chat_ready = _visitor(server, clients, token)
    send(chat, "first", "v1")
    chat.until_seq(position(harness, chat_ready))
    last = max(f["seq"] for f in chat.stored(chat.seen))
    chat.close()

    desk, _ = _agent(server, clients, site, after=0)
    conversation_id = str(desk.seen_or_next("message.created")["message"]["conversation_id"])
    for i in range(5):
        send(desk, f"while away {i}", f"a{i}", conversation_id=conversation_id)

    back, ready = _visitor(server, clients, token, after=last)
    frames = back.until_seq(ready["seq"])
    send(desk, "live again", "a-live", conversation_id=conversation_id)
    # The live event is the barrier: an event delivered twice would have come before it.
    frames += back.until_seq(ready["seq"] + 1)
    stored = back.stored(frames)
    assert [f["seq"] for f in stored] == list(range(last + 1, ready["seq"] + 2))
    assert [f["message"]["body"] for f in stored if f["type"] == "message.created"] == [
        *(f"while away {i}" for i in range(5)),
        "live again",
    ]


def desk_conversation(desk: Live) -> str:
    """The conversation id an agent socket has already seen, replaying from 0 if needed."""
    for frame in desk.seen:
        if frame.get("type") == "message.created":
            return str(frame["message"]["conversation_id"])
    raise AssertionError("the agent saw no message")


def test_after_zero_replays_the_whole_stream_also_after_a_server_restart(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    clients: list[Live],
    site: Site,
    harness: Harness,
) -> None:
    settings = make_settings()
    first = start_server(settings)
    with httpx.Client(base_url=first.url) as http:
        token = open_session(http, site.website_id).json()["token"]
    chat, _ = _visitor(first, clients, token)
    acks = [send(chat, f"before restart {i}", f"r{i}")["message"]["id"] for i in range(3)]
    chat.close()
    first.stop()

    second = start_server(settings)
    again, ready = _visitor(second, clients, token, after=0)
    # Nothing commits on the second server, so all it could send twice is queued before the pong.
    stored = again.stored(again.until_seq(ready["seq"]) + again.barrier())
    assert [f["seq"] for f in stored] == list(range(1, ready["seq"] + 1))
    assert [f["message"]["id"] for f in stored if f["type"] == "message.created"] == acks


def test_an_agent_hears_nothing_of_a_website_they_do_not_belong_to(
    server: ServerThread, clients: list[Live], site: Site, token: str, http: httpx.Client
) -> None:
    intruder = Live(ws_url(server.url, "/ws/agent"), origin=None)
    clients.append(intruder)
    intruder.send(
        {"type": "auth", "token": site.tokens["other_owner"], "website_id": site.website_id}
    )
    error = intruder.expect("error")
    assert error["code"] == "website_not_found"
    with pytest.raises(ConnectionClosed):
        intruder.recv()

    other_desk, _ = _agent(
        server, clients, site, who="other_owner", website_id=site.other_website_id
    )
    neighbour_token = http.post(
        f"/api/widget/v1/websites/{site.other_website_id}/session",
        json={"page": PAGE},
        headers={"Origin": OTHER_ORIGIN},
    ).json()["token"]
    neighbour, _ = _visitor(server, clients, neighbour_token, origin=OTHER_ORIGIN)
    chat, _ = _visitor(server, clients, token)
    send(chat, "private to Shop", "p1")
    # The barrier: Other's own message, published after Shop's through the same hub, so anything
    # of Shop's sent to the other agent would come before it.
    theirs = send(neighbour, "for Other", "o1")["message"]
    other_desk.seen_or_next("message.created", message=theirs)
    assert all("private to Shop" not in str(f) for f in other_desk.seen)


def test_visitor_socket_from_a_foreign_origin_is_refused_at_the_handshake(
    server: ServerThread, site: Site
) -> None:
    for query in ("", f"?website_id={site.website_id}"):
        with pytest.raises(InvalidStatus) as refused:
            Live(ws_url(server.url, "/ws/visitor" + query), origin="https://evil.example")
        assert refused.value.response.status_code == 403
    # An origin of another website is refused when the socket names its website.
    with pytest.raises(InvalidStatus):
        Live(
            ws_url(server.url, f"/ws/visitor?website_id={site.website_id}"),
            origin="https://other.example",
        )


def test_auth_must_come_first_and_be_valid(
    server: ServerThread, clients: list[Live], site: Site
) -> None:
    live = Live(ws_url(server.url, "/ws/visitor"))
    clients.append(live)
    live.send({"type": "ping"})
    assert live.expect("error")["code"] == "unauthenticated"
    forged = Live(ws_url(server.url, "/ws/visitor"))
    clients.append(forged)
    forged.send({"type": "auth", "token": "forged"})
    assert forged.expect("error")["code"] == "invalid_session"
    with pytest.raises(ConnectionClosed):
        forged.recv()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_frame"),
        ('{"type": "teleport"}', "unknown_type"),
        ('{"type": "message.send", "body": "no client id"}', "invalid_frame"),
        ('{"type": "typing", "on": "yes please"}', "invalid_frame"),
        (
            '{"type": "message.send", "client_id": "x", "body": "' + "y" * 70_000 + '"}',
            "frame_too_large",
        ),
        (
            '{"type": "message.send", "client_id": "x", "body": "' + "y" * 10_001 + '"}',
            "message_too_long",
        ),
        ('{"type": "message.send", "client_id": "x", "body": "  "}', "empty_message"),
        ('{"type": "availability", "status": "online"}', "invalid_frame"),
    ],
)
def test_a_bad_frame_gets_an_error_and_the_socket_stays_open(
    server: ServerThread, clients: list[Live], token: str, harness: Harness, raw: str, code: str
) -> None:
    chat, _ = _visitor(server, clients, token)
    chat.send(raw)
    assert chat.expect("error")["code"] == code
    chat.send({"type": "ping"})
    chat.expect("pong")
    assert harness.scalar("SELECT count(*) FROM messages") == 0


def test_message_errors_name_the_client_id_to_resend(
    server: ServerThread, clients: list[Live], token: str
) -> None:
    chat, _ = _visitor(server, clients, token)
    chat.send({"type": "message.send", "client_id": "long-one", "body": "z" * 10_001})
    assert chat.expect("error")["client_id"] == "long-one"


def test_frames_over_the_rate_are_refused_with_rate_limited(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    clients: list[Live],
    site: Site,
    harness: Harness,
) -> None:
    server = start_server(make_settings(frame_rate="5/s"))
    with httpx.Client(base_url=server.url) as http:
        token = open_session(http, site.website_id).json()["token"]
    chat, _ = _visitor(server, clients, token)
    for i in range(30):
        chat.send({"type": "message.send", "client_id": f"burst-{i}", "body": f"b{i}"})
    # Frames are answered in order: the answer to a 31st (a pong, or an error without client_id
    # when it is over the rate too) comes after every answer to the 30.
    chat.send({"type": "ping"})

    def answered_ping(got: list[dict[str, Any]]) -> bool:
        last = got[-1] if got else {}
        return last.get("type") == "pong" or (
            last.get("type") == "error" and "client_id" not in last
        )

    frames = chat.until(answered_ping, "answer to the ping")[:-1]
    limited = {f["client_id"] for f in frames if f.get("code") == "rate_limited"}
    acked = {f["client_id"] for f in frames if f["type"] == "message.ack"}
    assert limited and acked and not (limited & acked)
    assert len(acked) + len(limited) == 30
    assert harness.scalar("SELECT count(*) FROM messages") == len(acked)
    waits = [f["retry_after"] for f in frames if f.get("code") == "rate_limited"]
    assert all(0 < wait <= 1 / 5 for wait in waits), waits  # a token comes back every 0.2 s


def test_idle_sockets_are_closed(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    clients: list[Live],
    site: Site,
    harness: Harness,
) -> None:
    server = start_server(make_settings(ws_idle_timeout="1s"))
    with httpx.Client(base_url=server.url) as http:
        token = open_session(http, site.website_id).json()["token"]
    chat, _ = _visitor(server, clients, token)
    with pytest.raises(ConnectionClosed) as closed:
        chat.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4008


def test_a_socket_that_keeps_talking_is_not_closed_as_idle(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    clients: list[Live],
    site: Site,
    harness: Harness,
) -> None:
    # A timeout well above the 0.3 s between frames, so that a stalled test machine does not
    # close the socket, and below the 2.4 s the exchange lasts.
    server = start_server(make_settings(ws_idle_timeout="2s"))
    with httpx.Client(base_url=server.url) as http:
        token = open_session(http, site.website_id).json()["token"]
    chat, _ = _visitor(server, clients, token)
    for _ in range(8):  # 2.4 s in all, a frame every 0.3 s
        time.sleep(0.3)
        chat.send({"type": "ping"})
        chat.expect("pong")
    with pytest.raises(ConnectionClosed) as closed:
        chat.recv()  # silent from now on: closed as idle
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4008


def _created(live: Live) -> int:
    return sum(f["type"] == "message.created" for f in live.seen)


def test_a_socket_that_stops_reading_is_dropped_and_the_others_do_not_wait_for_it(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    clients: list[Live],
    site: Site,
) -> None:
    # The stuck agent sends nothing: on a loaded machine the 2,000 messages take longer than the
    # idle timeout, which would close it (4008) before the queue's bound does (4009).
    server = start_server(make_settings(frame_rate="100000/s", ws_idle_timeout="1h"))
    # uvicorn's keepalive also drops a client that never reads (no pong: 1011 after 40 s), and on
    # a slow machine it would before the queue's bound does: this test is about the bound.
    server.server.config.ws_ping_interval = None
    with httpx.Client(base_url=server.url) as http:
        token = open_session(http, site.website_id).json()["token"]
    # An agent whose client stops reading after `ready`: a small receive buffer on its socket
    # and a one-frame queue in its library, so that the server's sends to it soon block.
    host, port = server.url.removeprefix("http://").split(":")
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect((host, int(port)))
    # No keepalive of its own: a client that does not read cannot see the pongs, and on a slow
    # machine its pings would time out (closing with 1011) before the server drops it.
    stuck_socket = connect(
        ws_url(server.url, "/ws/agent"),
        sock=raw,
        max_queue=1,
        compression=None,
        ping_interval=None,
    )
    with stuck_socket as stuck:
        auth = {"type": "auth", "token": site.tokens["agent"], "website_id": site.website_id}
        stuck.send(json.dumps(auth))
        assert json.loads(stuck.recv(timeout=PATIENCE))["type"] == "ready"
        desk, _ = _agent(server, clients, site)
        chat, _ = _visitor(server, clients, token)

        # 10 KB messages: the kernel's buffers of the stuck socket fill (a few MB), then its queue
        # on the server (1,000 frames), and the server drops it; meanwhile the others carry on.
        body, count, window = "x" * 10_000, 2_000, 50
        for start in range(0, count, window):
            ids = [f"big-{n}" for n in range(start, start + window)]
            for client_id in ids:
                chat.send({"type": "message.send", "client_id": client_id, "body": body})
            for client_id in ids:
                chat.expect("message.ack", client_id=client_id)
            # The other agent reads as it goes, as a live client does.
            desk.until(lambda _, n=start + window: _created(desk) >= n, "message.created")

        # The other agent had every message, in order, without anyone reading the stuck socket:
        # no delivery waited for it.
        created = [f["message"]["client_id"] for f in desk.seen if f["type"] == "message.created"]
        assert created == [f"big-{n}" for n in range(count)]

        # The stuck agent got what its buffers held, then the close with 4009 (slow consumer).
        received = 0
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                received += json.loads(stuck.recv(timeout=PATIENCE))["type"] == "message.created"
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4009
        assert received < count
    # The visitor read up to its last ack only: its own 10 KB echoes still queued keep the
    # server's close frame from reaching its library, and its close at teardown would wait out
    # websockets' close timeout (10 s) before dropping the connection. Nothing is checked after
    # this point: it drops at once.
    chat.conn.close_timeout = 0.1


def test_typing_reaches_the_other_side_and_is_not_stored(
    server: ServerThread, clients: list[Live], site: Site, token: str, harness: Harness
) -> None:
    desk, _ = _agent(server, clients, site)
    chat, _ = _visitor(server, clients, token)
    send(chat, "hi", "t0")
    conversation_id = desk.expect("message.created")["message"]["conversation_id"]
    position = max(f["seq"] for f in desk.stored(desk.seen))
    chat.send({"type": "typing", "on": True})
    typing = desk.expect("typing")
    assert typing == {
        "type": "typing",
        "seq": position,
        "conversation_id": conversation_id,
        "session_id": typing["session_id"],
        "from": "visitor",
        "on": True,
    }
    desk.send({"type": "typing", "on": True, "conversation_id": conversation_id})
    from_desk = chat.expect("typing")
    assert from_desk["from"] == "operator" and from_desk["operator"]["name"] == "agent"
    assert harness.scalar("SELECT count(*) FROM events WHERE type = 'typing'") == 0


def test_read_marks_are_stored_and_pushed_to_both_sides(
    server: ServerThread, clients: list[Live], site: Site, token: str, harness: Harness
) -> None:
    desk, _ = _agent(server, clients, site)
    chat, _ = _visitor(server, clients, token)
    send(chat, "one", "r1")
    last = send(chat, "two", "r2")["message"]
    assert harness.scalar("SELECT unread_by_operator FROM conversations") == 2
    desk.send({"type": "read", "up_to": last["id"], "conversation_id": last["conversation_id"]})
    read = chat.expect("read")
    assert (read["by"], read["up_to"], read["conversation_id"]) == (
        "operator",
        last["id"],
        last["conversation_id"],
    )
    assert harness.scalar("SELECT unread_by_operator FROM conversations") == 0
    reply = send(desk, "seen", "d1", conversation_id=last["conversation_id"])["message"]
    assert harness.scalar("SELECT unread_by_visitor FROM conversations") == 1
    chat.send({"type": "read", "up_to": reply["id"]})
    assert desk.expect("read", by="visitor")["up_to"] == reply["id"]
    assert harness.scalar("SELECT unread_by_visitor FROM conversations") == 0


def test_availability_follows_agents_and_visitors_online_are_listed(
    server: ServerThread, clients: list[Live], site: Site, token: str, http: httpx.Client
) -> None:
    chat, ready = _visitor(server, clients, token)
    assert ready["availability"] == {"online": False}
    desk, desk_ready = _agent(server, clients, site, status="away")
    assert [v["session_id"] for v in desk_ready["visitors_online"]] == [ready["session"]["id"]]
    assert desk_ready["visitors_online"][0]["page_url"] == "https://shop.example/shoes"
    desk.send({"type": "availability", "status": "online"})
    assert chat.expect("presence")["online"] is True
    data = open_session(http, site.website_id, token=token).json()
    assert data["website"]["availability"] == {"online": True}
    desk.send({"type": "availability", "status": "away"})
    assert chat.expect("presence")["online"] is False
    chat.close()
    gone = desk.expect("presence", online=False)
    assert gone["visitor"]["session_id"] == ready["session"]["id"]


def test_p20_a_deleted_sessions_sockets_are_told_and_closed_at_once(
    server: ServerThread,
    clients: list[Live],
    site: Site,
    token: str,
    http: httpx.Client,
    harness: Harness,
) -> None:
    """Without sending anything (it used to learn it at its next message.send only)."""
    chat, _ = _visitor(server, clients, token)
    other_tab, _ = _visitor(server, clients, token)
    conversation_id = send(chat, "delete me", "d1")["message"]["conversation_id"]
    deleted = http.delete(
        f"/api/v1/conversations/{conversation_id}",
        headers={"Authorization": f"Bearer {site.tokens['owner']}"},
    )
    assert deleted.status_code == 200
    for tab in (chat, other_tab):
        assert tab.expect("error")["code"] == "invalid_session"
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                tab.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4004
    assert harness.scalar("SELECT count(*) FROM messages") == 0
    assert harness.scalar("SELECT count(*) FROM events") == 0


def test_a_website_stream_outlives_the_session_that_started_it(
    server: ServerThread,
    clients: list[Live],
    site: Site,
    http: httpx.Client,
    harness: Harness,
) -> None:
    stream = f"website:{site.website_id}"
    first, _ = _visitor(server, clients, open_session(http, site.website_id).json()["token"])
    conversation_id = send(first, "first", "f1")["message"]["conversation_id"]
    before = harness.scalar("SELECT last_seq FROM streams WHERE stream = :s", s=stream)
    assert before == 3  # conversation.updated, session.updated, message.created
    deleted = http.delete(
        f"/api/v1/conversations/{conversation_id}",
        headers={"Authorization": f"Bearer {site.tokens['owner']}"},
    )
    assert deleted.status_code == 200
    watcher, _ = _agent(server, clients, site)
    second, _ = _visitor(server, clients, open_session(http, site.website_id).json()["token"])
    send(second, "second", "s1")
    created = watcher.expect("message.created")
    assert created["seq"] == before + 3
    assert created["message"]["body"] == "second"
