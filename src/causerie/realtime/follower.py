"""One socket's cursor on its stream: every stored event exactly once, in order (docs/realtime.md).

The socket follows its stream on the hub *before* it reads its position or replays, so nothing
committed in between is missed; events that arrive during the replay wait in the queue and are
dropped there if the replay already delivered them. A live event whose seq jumps ahead (another
node's commit overtook a publish) makes the follower read the gap from the event log first.

All frames to the socket, acks and errors included, leave through this one queue and one task,
so frames are never interleaved. A socket that cannot keep up (queue full) is dropped, and its
client resumes from its last seq: the others are never slowed.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from causerie.actions.events import get_replay
from causerie.domain.events import Stream
from causerie.realtime.hub import Envelope
from causerie.runtime import Runtime

_RESYNC = object()

Send = Callable[[str], Awaitable[None]]


class SlowConsumer(Exception):
    pass


class StreamFollower:
    def __init__(self, rt: Runtime, stream: Stream, send: Send, capacity: int = 1000) -> None:
        self.rt = rt
        self.stream = stream
        self.last_seq = 0
        self._send = send
        self._capacity = capacity
        self._queue: deque[object] = deque()
        self._wakeup = asyncio.Event()
        self.overflowed = False

    # -- producers (never block) ---------------------------------------------------------------

    def offer(self, envelope: Envelope) -> None:
        self._put(envelope)

    def resync(self) -> None:
        self._put(_RESYNC)

    def push(self, frame: dict[str, Any]) -> None:
        """A frame for this socket only (ready, ack, error, pong): sent in queue order."""
        self._put(json.dumps(frame, separators=(",", ":")))

    def _put(self, item: object) -> None:
        if len(self._queue) >= self._capacity:
            self.overflowed = True
        else:
            self._queue.append(item)
        self._wakeup.set()

    # -- the writer ----------------------------------------------------------------------------

    async def run(self, after: int) -> None:
        """Replay the stream after `after`, then deliver live events until cancelled.

        Raises SlowConsumer when the socket fell `capacity` frames behind.
        """
        self.last_seq = after
        await self._catch_up()
        while True:
            while not self._queue:
                if self.overflowed:
                    raise SlowConsumer
                self._wakeup.clear()
                await self._wakeup.wait()
            if self.overflowed:
                raise SlowConsumer
            item = self._queue.popleft()
            if isinstance(item, str):
                await self._send(item)
            elif item is _RESYNC:
                await self._catch_up()
            else:
                assert isinstance(item, Envelope)
                await self._deliver(item)

    async def _deliver(self, envelope: Envelope) -> None:
        seq = envelope.seq
        if seq is None:  # ephemeral: carries the stream's position, does not move it
            await self._send(json.dumps({**envelope.frame, "seq": self.last_seq}))
            return
        if seq <= self.last_seq:
            return
        if seq > self.last_seq + 1:
            await self._catch_up()
            if seq <= self.last_seq:
                return
        await self._send(envelope.text)
        self.last_seq = seq

    async def _catch_up(self) -> None:
        while True:
            replay = await get_replay(self.rt, self.stream, self.last_seq)
            for _seq, text in replay.frames:
                await self._send(text)
            self.last_seq = max(self.last_seq, replay.scanned_to)
            if replay.complete:
                return
