"""A socket's `message.send`s in flight (web/sockets.py, `_Sends`; docs/realtime.md, "Sends in
flight"): each is handed to its website's lane as soon as it is read, not once the one before it
is stored, and the socket's messages and answers keep the order they were sent in. Over real
sockets, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from causerie.domain.ports import Tx
from tests.conftest import Harness, ServerThread, Site
from tests.live import PATIENCE, Live, visitor
from tests.support import wait_until
from tests.test_session_endpoint import open_session

T = TypeVar("T")


@pytest.fixture
def chat(server: ServerThread, http: httpx.Client, site: Site) -> Iterator[Live]:
    live, _ = visitor(server.url, open_session(http, site.website_id).json()["token"])
    yield live
    live.close()


def _on_server(server: ServerThread, coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` on the server's own event loop (its batcher and store belong to it)."""
    loop = server.server.servers[0].get_loop()
    return asyncio.run_coroutine_threadsafe(coro, loop).result(PATIENCE)


class _LaneHeld:
    """A part of the website's lane that runs until released: the lane's batch stays open, and
    whatever is handed to the lane meanwhile waits for the next one."""

    def __init__(self, server: ServerThread, website_id: str) -> None:
        self.server, self.website_id = server, website_id
        self._release: asyncio.Event | None = None
        self._running: asyncio.Event | None = None
        self._done: asyncio.Future[Any] | None = None

    def __enter__(self) -> _LaneHeld:
        rt = self.server.rt

        async def hold() -> None:
            self._release, self._running = asyncio.Event(), asyncio.Event()

            async def part(tx: Tx) -> None:
                assert self._running is not None and self._release is not None
                self._running.set()
                await self._release.wait()

            self._done = asyncio.ensure_future(rt.batches.run(rt.store, self.website_id, part))
            await self._running.wait()

        _on_server(self.server, hold())
        return self

    def waiting(self) -> int:
        rt = self.server.rt
        return rt.batches.waiting(rt.store, self.website_id)

    def __exit__(self, *exc: object) -> None:
        async def release() -> None:
            assert self._release is not None and self._done is not None
            self._release.set()
            await self._done

        _on_server(self.server, release())


def test_a_socket_s_next_message_is_queued_while_the_one_before_waits_for_its_commit(
    server: ServerThread, chat: Live, site: Site
) -> None:
    chat.send({"type": "message.send", "client_id": "first", "body": "hello"})
    chat.expect("message.ack", client_id="first")
    batches = server.rt.batches
    with _LaneHeld(server, site.website_id) as held:
        before = batches.batches
        for n in range(3):
            chat.send({"type": "message.send", "client_id": f"m{n}", "body": f"body {n}"})
        # Before, the socket read its next frame only once the one before was acked: one in
        # the lane at a time, and each message waited for the batch of the one before.
        wait_until(
            lambda: held.waiting() == 3,
            PATIENCE,
            lambda: f"{held.waiting()} of the socket's 3 messages queued in the held lane",
        )
    acks = [chat.expect("message.ack", client_id=f"m{n}") for n in range(3)]
    assert batches.batches - before == 1  # the three in one batch, after the held one
    created = [chat.seen_or_next("message.created", message=ack["message"]) for ack in acks]
    assert [c["seq"] for c in created] == sorted(c["seq"] for c in created)


def test_sends_in_flight_keep_their_order_and_their_answers_the_frames_order(
    server: ServerThread, chat: Live, harness: Harness
) -> None:
    """The first message starts the conversation (a part of its own), one is refused before it
    reaches its lane (an empty body), and a ping comes last: every answer in frame order, every
    stored message in the order sent."""
    for n in range(6):
        body = "" if n == 2 else f"line {n}"
        chat.send({"type": "message.send", "client_id": f"c{n}", "body": body})
    chat.send({"type": "ping"})
    frames = chat.until(lambda got: bool(got) and got[-1]["type"] == "pong", "pong")
    answers = [f for f in frames if f["type"] in ("message.ack", "error", "pong")]
    assert [(a["type"], a.get("client_id")) for a in answers] == [
        ("message.ack", "c0"),
        ("message.ack", "c1"),
        ("error", "c2"),
        ("message.ack", "c3"),
        ("message.ack", "c4"),
        ("message.ack", "c5"),
        ("pong", None),
    ]
    assert answers[2]["code"] == "empty_message"
    sent = ["line 0", "line 1", "line 3", "line 4", "line 5"]

    def created() -> list[str]:
        return [f["message"]["body"] for f in chat.seen if f["type"] == "message.created"]

    chat.until(lambda _: len(created()) == len(sent), "the five message.created")
    assert created() == sent  # the stream's order: seq order is the lane's
    stored = harness.scalar("SELECT count(*) FROM messages")
    assert stored == len(sent)


def test_a_send_in_flight_to_a_session_gone_unannounced_closes_the_socket_with_4004(
    server: ServerThread, chat: Live, harness: Harness
) -> None:
    """A session deleted without its event (as when the broker lost it): the next send learns
    it from its part; the socket is told, then closed."""
    chat.send({"type": "message.send", "client_id": "before", "body": "hello"})
    chat.expect("message.ack", client_id="before")
    harness.execute("DELETE FROM sessions")
    chat.send({"type": "message.send", "client_id": "gone", "body": "anyone?"})
    assert chat.expect("error")["code"] == "invalid_session"
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            chat.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4004
