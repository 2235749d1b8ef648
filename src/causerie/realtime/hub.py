"""The hub: this node's sockets, the streams they follow, and the broker between nodes.

See docs/realtime.md. Publishing goes through one queue and one task, so events leave this node
in the order their transactions committed. Each payload is decoded once per node, however many
local sockets follow its stream.

Every node also hears `ACCESS_CHANNEL`: an `access.ended` event names revocation keys, and the
hub ends each local agent socket guarded by one of them ("When access ends").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from causerie.domain.access import ACCESS_CHANNEL
from causerie.domain.events import Envelope, encode
from causerie.domain.ports import Broker, Follower, Guard

log = logging.getLogger("causerie.realtime")


class Hub:
    """This node's implementation of `domain.ports.Hub`."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._followers: dict[str, set[Follower]] = {}
        self._guards: dict[str, set[Guard]] = {}
        # What waits to reach the broker, in order, and the publisher's wake when it waits for
        # more. A deque and a future, not an `asyncio.Queue`: a queue's `put_nowait` and `get`
        # are ten Python calls a frame, two frames a message (docs/performance.md, `relay5`).
        self._outbox: deque[tuple[str, bytes]] = deque()
        self._wake: asyncio.Future[None] | None = None
        self._drained: asyncio.Future[None] | None = None  # `close` waits for the outbox
        self._publisher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.broker.start(self._dispatch, self._resync_all)
        await self.broker.subscribe(ACCESS_CHANNEL)
        self._publisher = asyncio.create_task(self._publish_forever(), name="causerie-publisher")

    async def close(self) -> None:
        if self._publisher is not None:
            # Let what committed reach the broker before the node goes.
            if self._outbox:
                self._drained = asyncio.get_running_loop().create_future()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(self._drained), timeout=2)
            self._publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publisher
        await self.broker.close()

    def publish(self, channel: str, frame: dict[str, Any]) -> None:
        """Queue a frame for every follower of `channel` on every node. Never blocks."""
        self.publish_text(channel, encode(frame))

    def publish_text(self, channel: str, text: str) -> None:
        """`publish` for a frame already encoded."""
        self._outbox.append((channel, text.encode()))
        wake = self._wake
        if wake is not None:
            self._wake = None
            if not wake.done():  # cancelled with the publisher
                wake.set_result(None)

    def publisher(self, channel: str, frame: dict[str, Any]) -> Callable[[], None]:
        """A callback publishing `frame`, for `tx.on_commit`."""
        return lambda: self.publish(channel, frame)

    def publisher_of(self, frames: list[tuple[str, str]]) -> Callable[[], None]:
        """A callback publishing each `(channel, frame's JSON text)` in order, for
        `tx.on_commit`."""

        def publish_all() -> None:
            for channel, text in frames:
                self.publish_text(channel, text)

        return publish_all

    async def follow(self, channel: str, follower: Follower) -> None:
        followers = self._followers.get(channel)
        if followers is None:
            followers = self._followers[channel] = set()
            await self.broker.subscribe(channel)
        followers.add(follower)

    async def unfollow(self, channel: str, follower: Follower) -> None:
        followers = self._followers.get(channel)
        if followers is None:
            return
        followers.discard(follower)
        if not followers:
            del self._followers[channel]
            with contextlib.suppress(Exception):
                await self.broker.unsubscribe(channel)

    def guard(self, keys: tuple[str, ...], guard: Guard) -> None:
        """Have `guard` revoked when an `access.ended` event names one of `keys`."""
        for key in keys:
            self._guards.setdefault(key, set()).add(guard)

    def unguard(self, keys: tuple[str, ...], guard: Guard) -> None:
        for key in keys:
            guards = self._guards.get(key)
            if guards is not None:
                guards.discard(guard)
                if not guards:
                    del self._guards[key]

    def guarded(self) -> int:
        """How many revocation keys this node's sockets are guarded by."""
        return len(self._guards)

    def following(self, channel: str) -> int:
        return len(self._followers.get(channel, ()))

    def channels(self, prefix: str = "") -> list[str]:
        """The channels this node's sockets follow (those starting with `prefix`)."""
        return [c for c in self._followers if c.startswith(prefix)]

    def _dispatch(self, channel: str, payload: bytes) -> None:
        if channel == ACCESS_CHANNEL:
            self._revoke(json.loads(payload))
            return
        followers = self._followers.get(channel)
        if not followers:
            return
        # Decoded only as far as its seq: a stored event is sent on as it came.
        envelope = Envelope.of(payload.decode())
        for follower in tuple(followers):
            follower.offer(envelope)

    def _revoke(self, event: dict[str, Any]) -> None:
        code = str(event.get("code", ""))
        for key in event.get("keys", ()):
            for guard in tuple(self._guards.get(key, ())):
                guard.revoke(code)

    def _resync_all(self) -> None:
        for followers in self._followers.values():
            for follower in tuple(followers):
                follower.resync()

    async def _publish_forever(self) -> None:
        outbox, publish = self._outbox, self.broker.publish
        loop = asyncio.get_running_loop()
        while True:
            while outbox:
                channel, payload = outbox[0]  # left in the outbox until published (`close`)
                try:
                    await publish(channel, payload)
                except Exception as exc:
                    # The event is in the database; followers catch up when the broker is back.
                    log.warning("publish to %s failed (%s); followers will catch up", channel, exc)
                finally:
                    outbox.popleft()
            drained = self._drained
            if drained is not None and not drained.done():
                drained.set_result(None)
            self._wake = loop.create_future()
            await self._wake
