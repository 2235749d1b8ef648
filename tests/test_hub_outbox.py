"""The hub's outbox (realtime/hub.py): frames reach the broker in the order they were
published, the publisher wakes for each new one after waiting, and a node that closes lets
what was published before reach the broker first. On the in-process broker."""

from __future__ import annotations

import asyncio

import uvloop

from causerie.broker.memory import MemoryBroker
from causerie.domain.events import Envelope
from causerie.realtime.hub import Hub
from tests.support import until


class Heard:
    def __init__(self) -> None:
        self.texts: list[str] = []

    def offer(self, envelope: Envelope) -> None:
        self.texts.append(envelope.text)

    def resync(self) -> None:
        pass


def frame(seq: int) -> str:
    return f'{{"type":"message.created","seq":{seq},"message":{{"id":"m{seq}"}}}}'


def test_frames_reach_followers_in_order_after_the_publisher_waited() -> None:
    uvloop.run(_in_order())


async def _in_order() -> None:
    hub = Hub(MemoryBroker())
    await hub.start()
    heard = Heard()
    await hub.follow("website:w", heard)
    await hub.follow("session:s", heard)
    try:
        for seq in range(1, 4):  # the publisher waits between these
            hub.publish_text("website:w", frame(seq))
            hub.publish_text("session:s", frame(seq))
            await until(lambda n=2 * seq: len(heard.texts) == n, 5, lambda: f"{heard.texts}")
        for seq in range(4, 104):  # and these come faster than it sends them
            hub.publish_text("website:w", frame(seq))
        await until(lambda: len(heard.texts) == 106, 5, lambda: f"{len(heard.texts)} heard")
        expected = [frame(s) for s in range(1, 4) for _ in (0, 1)]
        assert heard.texts == expected + [frame(s) for s in range(4, 104)]
    finally:
        await hub.close()


def test_what_was_published_before_close_reaches_the_broker() -> None:
    uvloop.run(_closed())


async def _closed() -> None:
    hub = Hub(MemoryBroker())
    await hub.start()
    heard = Heard()
    await hub.follow("website:w", heard)
    await asyncio.sleep(0)  # the publisher waits for a frame
    for seq in range(1, 51):
        hub.publish_text("website:w", frame(seq))
    await hub.close()
    assert heard.texts == [frame(s) for s in range(1, 51)]
    hub.publish_text("website:w", frame(51))  # after its close: kept, never raises
