"""One broker contract, run against every backend (STYLE.md, practice 6); then what only Redis can
do wrong: several nodes, restarts, a frozen server, a server that is not there."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

import pytest

from causerie.broker import BrokerUnavailable
from causerie.broker.memory import MemoryBroker
from causerie.broker.redis import RedisBroker
from causerie.domain.ports import Broker
from tests.redis_support import PrivateRedis, private_redis, shared_redis_url, unique
from tests.support import free_port

END = b"end"  # published last on a channel: once it is here, everything before it is too


class Node:
    """A started broker, and what it delivered to this node."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.received: list[tuple[str, bytes]] = []
        self.reconnects = 0
        self._news = asyncio.Event()

    async def __aenter__(self) -> Node:
        await self.broker.start(self._on_message, self._on_reconnect)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.broker.close()

    def _on_message(self, channel: str, payload: bytes) -> None:
        self.received.append((channel, payload))
        self._news.set()

    def _on_reconnect(self) -> None:
        self.reconnects += 1
        self._news.set()

    def on(self, channel: str) -> list[bytes]:
        return [payload for name, payload in self.received if name == channel]

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait (5 s at most) until a callback of this node made `condition()` true."""
        async with asyncio.timeout(5):
            while not condition():
                self._news.clear()
                await self._news.wait()

    async def until_received(self, channel: str, payload: bytes = END) -> None:
        await self.until(lambda: (channel, payload) in self.received)


class LogFlag(logging.Handler):
    """Set when the `causerie.broker` logger writes a record containing `text`."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.event = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.event.set()


@pytest.fixture(scope="module")
def redis_url() -> str:
    return shared_redis_url()


@pytest.fixture
def private(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = private_redis(tmp_path)
    yield server
    server.stop(signal.SIGKILL)


@pytest.fixture(params=["memory", "redis"])
def make_broker(request: pytest.FixtureRequest) -> Callable[[], Broker]:
    if request.param == "memory":
        return MemoryBroker
    url: str = request.getfixturevalue("redis_url")
    return lambda: RedisBroker(url)


# -- the contract ------------------------------------------------------------------------------


def test_publish_reaches_the_subscribers_of_that_channel_only(
    make_broker: Callable[[], Broker],
) -> None:
    async def scenario() -> None:
        mine, other = unique("session"), unique("session")
        async with Node(make_broker()) as node:
            await node.broker.subscribe(mine)
            await node.broker.publish(other, b"not for me")
            await node.broker.publish(mine, b"for me")
            await node.broker.publish(mine, END)
            await node.until_received(mine)
            assert node.received == [(mine, b"for me"), (mine, END)]

    asyncio.run(scenario())


def test_subscribing_twice_delivers_once(make_broker: Callable[[], Broker]) -> None:
    async def scenario() -> None:
        channel = unique("website")
        async with Node(make_broker()) as node:
            await node.broker.subscribe(channel)
            await node.broker.subscribe(channel)
            await node.broker.publish(channel, b"once")
            await node.broker.publish(channel, END)
            await node.until_received(channel)
            assert node.on(channel) == [b"once", END]

    asyncio.run(scenario())


def test_unsubscribe_stops_delivery(make_broker: Callable[[], Broker]) -> None:
    async def scenario() -> None:
        left, stayed = unique("session"), unique("session")
        async with Node(make_broker()) as node:
            await node.broker.subscribe(left)
            await node.broker.subscribe(stayed)
            await node.broker.publish(left, b"before")
            await node.until_received(left, b"before")

            await node.broker.unsubscribe(left)
            await node.broker.unsubscribe(unique("never-subscribed"))
            await node.broker.publish(left, b"after")
            await node.broker.publish(stayed, END)
            await node.until_received(stayed)
            assert node.received == [(left, b"before"), (stayed, END)]

    asyncio.run(scenario())


def test_publishes_on_one_channel_arrive_in_order(make_broker: Callable[[], Broker]) -> None:
    async def scenario() -> None:
        channel = unique("session")
        sent = [str(i).encode() for i in range(500)]
        async with Node(make_broker()) as node:
            await node.broker.subscribe(channel)
            for payload in sent:
                await node.broker.publish(channel, payload)
            await node.until_received(channel, sent[-1])
            assert node.on(channel) == sent

    asyncio.run(scenario())


def test_payload_bytes_are_kept_exactly(make_broker: Callable[[], Broker]) -> None:
    frame = {"type": "message", "text": "Ça va ? 👋 «ok» — 你好", "seq": 7}
    payloads = [
        json.dumps(frame, ensure_ascii=False).encode(),
        json.dumps(frame).encode(),
        b"",
        bytes(range(256)),
        b"line\r\nbreak\x00nul",
    ]

    async def scenario() -> None:
        channel = unique("session")
        async with Node(make_broker()) as node:
            await node.broker.subscribe(channel)
            for payload in [*payloads, END]:
                await node.broker.publish(channel, payload)
            await node.until_received(channel)
            assert node.on(channel) == [*payloads, END]
            assert json.loads(node.on(channel)[0]) == frame

    asyncio.run(scenario())


# -- Redis: several nodes ----------------------------------------------------------------------


def test_two_nodes_see_each_others_publishes(redis_url: str) -> None:
    async def scenario() -> None:
        channel = unique("website")
        async with Node(RedisBroker(redis_url)) as one, Node(RedisBroker(redis_url)) as two:
            await one.broker.subscribe(channel)
            await two.broker.subscribe(channel)
            await one.broker.publish(channel, b"from one")
            await two.broker.publish(channel, END)
            for node in (one, two):
                await node.until_received(channel)
                assert node.on(channel) == [b"from one", END]

    asyncio.run(scenario())


# -- Redis: outages ----------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_broker_comes_back_by_itself_after_redis_restarts(
    private: PrivateRedis, sig: signal.Signals
) -> None:
    async def scenario() -> None:
        channel, added_while_down = unique("session"), unique("session")
        async with Node(RedisBroker(private.url)) as node, Node(RedisBroker(private.url)) as other:
            await node.broker.subscribe(channel)
            await other.broker.publish(channel, b"before")
            await node.until_received(channel, b"before")

            private.stop(sig)
            started = time.monotonic()
            with pytest.raises(BrokerUnavailable):
                await node.broker.publish(channel, b"lost")
            assert time.monotonic() - started < 2
            await node.broker.subscribe(added_while_down)  # recorded, subscribed on reconnection
            private.start()

            await node.until(lambda: node.reconnects == 1)
            await other.until(lambda: other.reconnects == 1)
            # on_reconnect comes after the subscriptions are back: nothing after it is missed.
            await other.broker.publish(channel, b"after")
            await other.broker.publish(added_while_down, b"late")
            await node.broker.publish(channel, END)
            await node.until_received(channel)
            assert node.received == [
                (channel, b"before"),
                (channel, b"after"),
                (added_while_down, b"late"),
                (channel, END),
            ]
            assert node.reconnects == 1

    asyncio.run(scenario())


@pytest.fixture
def connection_lost() -> Iterator[LogFlag]:
    flag = LogFlag("connection lost")
    logger = logging.getLogger("causerie.broker")
    logger.addHandler(flag)
    yield flag
    logger.removeHandler(flag)


def test_broker_gives_up_on_a_frozen_redis_and_comes_back(
    private: PrivateRedis, connection_lost: LogFlag
) -> None:
    """A server that keeps the connection open and answers nothing (a hung host, a partition)."""

    async def scenario() -> None:
        channel = unique("session")
        quick = {"timeout": 0.3, "heartbeat": 0.2}
        async with Node(RedisBroker(private.url, **quick)) as node:
            await node.broker.subscribe(channel)
            await node.broker.publish(channel, b"before")
            await node.until_received(channel, b"before")

            private.pause()
            started = time.monotonic()
            with pytest.raises(BrokerUnavailable):
                await node.broker.publish(channel, b"lost")
            assert time.monotonic() - started < 2
            async with asyncio.timeout(5):
                await connection_lost.event.wait()  # the heartbeat found the silence
            private.resume()

            await node.until(lambda: node.reconnects == 1)
            await node.broker.publish(channel, END)
            await node.until_received(channel)
            assert node.on(channel) == [b"before", END]

    asyncio.run(scenario())


def test_broker_started_before_redis_connects_when_it_comes(private: PrivateRedis) -> None:
    async def scenario() -> None:
        channel = unique("session")
        private.stop()
        started = time.monotonic()
        async with Node(RedisBroker(private.url)) as node:
            assert time.monotonic() - started < 2
            await node.broker.subscribe(channel)
            private.start()
            await node.until(lambda: node.reconnects == 1)
            async with Node(RedisBroker(private.url)) as other:
                await other.broker.publish(channel, END)
                await node.until_received(channel)

    asyncio.run(scenario())


def test_publish_to_an_unreachable_redis_fails_promptly() -> None:
    async def scenario() -> None:
        channel = unique("session")
        started = time.monotonic()
        async with Node(RedisBroker(f"redis://127.0.0.1:{free_port()}/0")) as node:
            await node.broker.subscribe(channel)
            with pytest.raises(BrokerUnavailable):
                await node.broker.publish(channel, b"nobody")
            await node.broker.unsubscribe(channel)
        assert time.monotonic() - started < 2
        assert node.received == []

    asyncio.run(scenario())
