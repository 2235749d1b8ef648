"""The per-socket cursor: exactly once, in order, gaps read from the log, slow sockets dropped."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from causerie.actions.events import do_emit, get_position
from causerie.domain.events import Envelope, EventType, Stream
from causerie.realtime.follower import SlowConsumer, StreamFollower
from tests.conftest import Harness, ServerThread, Site
from tests.live import PATIENCE
from tests.support import until
from tests.test_session_endpoint import open_session, send


def _stream_with_messages(http: httpx.Client, site: Site, count: int) -> tuple[Stream, str]:
    token = open_session(http, site.website_id).json()["token"]
    for i in range(count):
        send(http, token, f"m{i}", client_id=f"c{i}")
    session_id = open_session(http, site.website_id, token=token).json()["session"]["id"]
    return Stream.of_session(session_id), session_id


def _envelope(seq: int | None, **frame: object) -> Envelope:
    body = {"type": "message.created", "seq": seq, **frame}
    return Envelope(seq, json.dumps(body), body)


def test_live_event_ahead_of_the_cursor_makes_it_read_the_gap_first(
    server: ServerThread, http: httpx.Client, site: Site, harness: Harness
) -> None:
    token = open_session(http, site.website_id).json()["token"]
    send(http, token, "first", client_id="c0")
    session_id = open_session(http, site.website_id, token=token).json()["session"]["id"]
    stream = Stream.of_session(session_id)
    sent: list[dict[str, object]] = []

    async def scenario() -> None:
        async def sink(text: str) -> None:
            sent.append(json.loads(text))

        follower = StreamFollower(harness.rt, stream, sink)
        position = await get_position(harness.rt, stream)
        task = asyncio.create_task(follower.run(0))
        await until(
            lambda: follower.last_seq == position, PATIENCE, lambda: "the replay did not happen"
        )
        replayed = len(sent)
        # Two more messages commit on the server; this follower hears of neither...
        await asyncio.to_thread(send, http, token, "second", "c1")
        await asyncio.to_thread(send, http, token, "third", "c2")
        assert len(sent) == replayed
        total = await get_position(harness.rt, stream)
        # ...until the last event arrives live: the ones before it are read from the log first.
        follower.offer(_envelope(total))
        follower.offer(_envelope(total))  # a duplicate is dropped
        follower.offer(_envelope(None, type="typing"))  # ephemeral: carries the position
        await until(
            lambda: bool(sent) and sent[-1]["type"] == "typing",
            PATIENCE,
            lambda: "the last frame did not come",
        )
        task.cancel()

    harness.run(scenario())
    total = harness.scalar("SELECT last_seq FROM streams WHERE stream = :s", s=stream.key)
    stored = [f for f in sent if f["type"] != "typing"]
    assert [f["seq"] for f in stored] == list(range(1, total + 1))
    bodies = [f["message"]["body"] for f in stored if f["type"] == "message.created"]  # type: ignore[index]
    assert bodies == ["first", "second", "third"]
    assert sent[-1] == {"type": "typing", "seq": total}


def test_a_socket_that_cannot_keep_up_is_dropped(
    server: ServerThread, http: httpx.Client, site: Site, harness: Harness
) -> None:
    stream, _ = _stream_with_messages(http, site, 1)

    async def scenario() -> None:
        blocked, writing = asyncio.Event(), asyncio.Event()

        async def stuck(text: str) -> None:
            writing.set()
            await blocked.wait()  # a client that never reads

        follower = StreamFollower(harness.rt, stream, stuck, capacity=10)
        task = asyncio.create_task(follower.run(0))
        await asyncio.wait_for(writing.wait(), PATIENCE)  # the replay is stuck on its first frame
        for seq in range(100, 120):
            follower.offer(_envelope(seq))
        blocked.set()
        with pytest.raises(SlowConsumer):
            await asyncio.wait_for(task, 5)

    harness.run(scenario())


def test_events_are_published_only_after_commit(harness: Harness, site: Site) -> None:
    published: list[tuple[str, dict[str, object]]] = []
    original = harness.rt.hub.publish_text
    harness.rt.hub.publish_text = lambda channel, text: published.append(  # type: ignore[method-assign]
        (channel, json.loads(text))
    )
    stream = Stream.of_website(site.website_id)

    async def rolled_back() -> None:
        async with harness.rt.store.transaction() as tx:
            await do_emit(
                harness.rt, tx, stream, EventType.READ, "x", {"up_to": "m"}, session_id=None
            )
            assert published == []
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        harness.run(rolled_back())
    assert published == []
    assert harness.scalar("SELECT count(*) FROM events") == 0

    async def committed() -> None:
        async with harness.rt.store.transaction() as tx:
            await do_emit(
                harness.rt, tx, stream, EventType.READ, "x", {"up_to": "m"}, session_id=None
            )
            assert published == []

    harness.run(committed())
    harness.rt.hub.publish_text = original  # type: ignore[method-assign]
    assert published == [(stream.key, {"type": "read", "seq": 1, "up_to": "m"})]
