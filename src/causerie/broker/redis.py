"""The Redis broker: nodes of one deployment exchange events through Redis pub/sub.

See docs/realtime.md. Delivery is **at most once**. A message published while this node's
subscription connection is down is lost for this node, and Redis keeps nothing to replay it. What
makes that safe is the catch-up contract:

- the reader task notices a dropped connection (an error, or no answer to its PING within two
  `heartbeat` periods), retries with a backoff from 0.1 s doubling to 2 s, subscribes again to
  every current channel, waits until Redis has confirmed them, and only then calls
  `on_reconnect()`: the node then catches up from its event log, the source of truth, and anything
  published after that call reaches it live;
- `publish` raises `BrokerUnavailable` promptly (within `timeout` seconds, at once when the
  connection is refused) instead of waiting for Redis; the event is in the database already and
  followers on other nodes catch up when their own connection comes back;
- `subscribe` never raises for an unreachable Redis: the channel is recorded, subscribed on the
  next connection, and `on_reconnect()` follows. When connected, it returns once Redis has
  registered the subscription, so a snapshot read after it misses nothing published later.

Channels are plain names (`session:<id>`, `website:<id>`); in Redis they carry the `causerie:`
prefix so that several deployments can share one server. Subscriptions are a set, not counted:
subscribing twice is the same as once, and one `unsubscribe` ends delivery at once (messages already
on the wire for that channel are dropped).

Everything runs on the event loop that called `start`; `on_message` and `on_reconnect` are called
from the reader task, must not block, and an exception they raise is logged and ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio.client import PubSub

from causerie.broker import BrokerUnavailable
from causerie.broker.redis_client import KEY_PREFIX, REDIS_DOWN, open_client

log = logging.getLogger("causerie.broker")

_BACKOFF_MIN = 0.1
_BACKOFF_MAX = 2.0


class RedisBroker:
    def __init__(self, url: str, *, timeout: float = 1.0, heartbeat: float = 5.0) -> None:
        """`timeout`: seconds to connect or to get an answer; `heartbeat`: idle seconds after which
        the reader PINGs Redis to learn whether its connection is still alive."""
        self._client = open_client(url, timeout)
        self._timeout = timeout
        self._heartbeat = heartbeat
        self._channels: set[str] = set()
        self._on_message: Callable[[str, bytes], None] = _ignore_message
        self._on_reconnect: Callable[[], None] = _ignore_reconnect
        self._pubsub: PubSub | None = None  # set while the subscription connection is up
        self._send_lock = asyncio.Lock()  # one command at a time on the subscription connection
        self._publish_lock = asyncio.Lock()  # one connection, publishes in the order called
        self._barriers: dict[bytes, asyncio.Future[None]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._closed = False

    async def start(
        self, on_message: Callable[[str, bytes], None], on_reconnect: Callable[[], None]
    ) -> None:
        """Start the reader; return once the first connection attempt succeeded or failed.

        Never raises for an unreachable Redis: the reader keeps retrying, and `on_reconnect` is
        called when it gets through. It is not called for a connection made before this returns.
        """
        self._on_message, self._on_reconnect = on_message, on_reconnect
        first_attempt = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(
            self._read_forever(first_attempt), name="causerie-broker"
        )
        await asyncio.wait({first_attempt, self._reader}, return_when=asyncio.FIRST_COMPLETED)
        if self._reader.done():  # it never ends by itself: surface what killed it
            self._reader.result()

    async def publish(self, channel: str, payload: bytes) -> None:
        """Send `payload` to the subscribers of `channel` on every node, this one included.

        Publishes from one task reach subscribers in the order they were made. Raises
        `BrokerUnavailable` when Redis is unreachable, within about `timeout` seconds.
        """
        if self._closed:
            raise BrokerUnavailable("the broker is closed")
        try:
            async with asyncio.timeout(self._timeout), self._publish_lock:
                await self._client.publish(KEY_PREFIX + channel, payload)
        except REDIS_DOWN as exc:
            raise BrokerUnavailable(
                f"cannot publish to Redis: {exc or type(exc).__name__}"
            ) from exc

    async def subscribe(self, channel: str) -> None:
        """Deliver `channel` from now on; return once Redis has registered the subscription (or
        `timeout` seconds later). When Redis is unreachable the channel is recorded for the next
        connection, which `on_reconnect` follows: this never raises `BrokerUnavailable`."""
        self._channels.add(channel)
        barrier = await self._send(
            lambda pubsub: pubsub.subscribe(KEY_PREFIX + channel), barrier=True
        )
        if barrier is not None:
            # Not confirmed in time: the heartbeat will find out whether the connection is dead.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(barrier), self._timeout)

    async def unsubscribe(self, channel: str) -> None:
        """Stop delivering `channel` at once. Never raises `BrokerUnavailable`."""
        self._channels.discard(channel)
        await self._send(lambda pubsub: pubsub.unsubscribe(KEY_PREFIX + channel), barrier=False)

    async def close(self) -> None:
        """Stop the reader and close both connections. The broker cannot be started again."""
        self._closed = True
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        self._channels.clear()
        await self._client.aclose()

    # -- the subscription connection -------------------------------------------------------------

    async def _send(
        self, command: Callable[[PubSub], Any], *, barrier: bool
    ) -> asyncio.Future[None] | None:
        """Send `command` on the subscription connection if it is up, followed with `barrier` by
        a PING whose reply resolves the returned future: Redis has then processed the command.

        A failure is left to the reader, which sees the same connection fail and reconnects.
        """
        async with self._send_lock:
            pubsub = self._pubsub
            if pubsub is None:
                return None
            try:
                await command(pubsub)
                return await self._ping(pubsub) if barrier else None
            except REDIS_DOWN as exc:
                log.debug("subscription command failed, left to the reader: %s", exc)
                return None

    async def _ping(self, pubsub: PubSub) -> asyncio.Future[None]:
        token = b"causerie-" + secrets.token_hex(8).encode()
        future = self._barriers[token] = asyncio.get_running_loop().create_future()
        await pubsub.ping(token)
        return future

    async def _read_forever(self, first_attempt: asyncio.Future[None]) -> None:
        delay = _BACKOFF_MIN
        lost = False  # messages may have been missed: call on_reconnect once subscribed again
        while True:
            pubsub = self._client.pubsub()
            attached = False
            try:
                resubscribed = await self._attach(pubsub)
                attached, delay = True, _BACKOFF_MIN
                if lost:
                    log.info(
                        "Redis connection back; resubscribed to %d channels", len(self._channels)
                    )
                _settle(first_attempt)
                await self._read(pubsub, resubscribed if lost else None)
            except Exception as exc:
                if attached:
                    _log_failure("Redis connection lost; reconnecting", exc)
                elif not first_attempt.done():
                    _log_failure("Redis unreachable; retrying in the background", exc)
                else:
                    log.debug("Redis still unreachable, next attempt in %.1f s: %s", delay, exc)
            finally:
                await self._detach(pubsub)
            _settle(first_attempt)
            lost = True
            await asyncio.sleep(delay)
            if not attached:
                delay = min(delay * 2, _BACKOFF_MAX)

    async def _attach(self, pubsub: PubSub) -> asyncio.Future[None]:
        """Connect `pubsub`, subscribe it to every current channel, and make it the one
        `subscribe` uses. The future resolves when Redis has registered those subscriptions."""
        async with self._send_lock:
            await pubsub.connect()  # type: ignore[no-untyped-call]
            if self._channels:
                await pubsub.subscribe(*(KEY_PREFIX + channel for channel in self._channels))
            resubscribed = await self._ping(pubsub)
            self._pubsub = pubsub
            return resubscribed

    async def _detach(self, pubsub: PubSub) -> None:
        async with self._send_lock:
            self._pubsub = None
            for future in self._barriers.values():
                if not future.done():
                    future.set_result(None)
            self._barriers.clear()
            # Typed from redis 8.2 on, untyped before: through a typed name, mypy accepts both.
            aclose: Callable[[], Awaitable[None]] = pubsub.aclose
            await aclose()

    async def _read(self, pubsub: PubSub, resubscribed: asyncio.Future[None] | None) -> None:
        """Deliver messages until the connection fails; call `on_reconnect` once `resubscribed`
        resolves. Raises one of `REDIS_DOWN` when the connection is lost or silent."""
        awaiting_pong = False
        while True:
            message = await pubsub.get_message(timeout=self._heartbeat)
            if message is None:
                if awaiting_pong:
                    raise TimeoutError("no answer to PING from Redis")
                async with self._send_lock:
                    await pubsub.ping()
                awaiting_pong = True
                continue
            awaiting_pong = False
            if message["type"] == "message":
                self._deliver(message["channel"], message["data"])
            elif message["type"] == "pong":
                barrier = self._barriers.pop(message["data"], None)
                if barrier is not None and not barrier.done():
                    barrier.set_result(None)
                if resubscribed is not None and resubscribed.done():
                    resubscribed = None
                    _call(self._on_reconnect)

    def _deliver(self, raw_channel: bytes, payload: bytes) -> None:
        channel = raw_channel.decode("utf-8", "replace").removeprefix(KEY_PREFIX)
        if channel in self._channels:  # not a channel unsubscribed a moment ago
            _call(self._on_message, channel, payload)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _log_failure(what: str, exc: Exception) -> None:
    if isinstance(exc, REDIS_DOWN):
        log.warning("%s: %s", what, exc or type(exc).__name__)
    else:  # not an outage but a bug or a surprise: reconnecting is still the safe way on
        log.error("%s", what, exc_info=exc)


def _call(callback: Callable[..., None], *args: Any) -> None:
    try:
        callback(*args)
    except Exception:
        log.exception("broker callback %r failed", callback)


def _ignore_message(channel: str, payload: bytes) -> None:
    return None


def _ignore_reconnect() -> None:
    return None
