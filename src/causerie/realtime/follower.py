"""One socket's cursor on its stream: every stored event exactly once, in order (docs/realtime.md).

The socket follows its stream on the hub *before* it reads its position or replays, so nothing
committed in between is missed; events that arrive during the replay wait in the queue and are
dropped there if the replay already delivered them. A live event whose seq jumps ahead (another
node's commit overtook a publish) makes the follower read the gap from the event log first.

All frames to the socket, acks and errors included, leave through this one queue, written by one
task at a time, so frames are never interleaved. That writer exists only while frames wait: an
idle socket holds no task, no event and no queue (memory per idle socket, docs/performance.md).
A socket that cannot keep up (queue full) is dropped, and its client resumes from its last seq:
the others are never slowed.

An agent socket's follower has a `check` of its access, awaited before the first replay and
before catching up after the broker reconnected (a revocation may have been lost meanwhile): an
ended access raises there, so not one more event reaches the socket ("When access ends").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from causerie.actions.events import get_replay
from causerie.domain.events import Envelope, Stream
from causerie.runtime import Runtime

_RESYNC = object()
_CHECK = object()

Send = Callable[[str], Awaitable[None]]
Check = Callable[[], Awaitable[None]]


class SlowConsumer(Exception):
    pass


class StreamFollower:
    __slots__ = (
        "_capacity",
        "_check",
        "_failed",
        "_on_error",
        "_queue",
        "_send",
        "_started",
        "_writer",
        "last_seq",
        "overflowed",
        "rt",
        "stream",
    )

    def __init__(
        self,
        rt: Runtime,
        stream: Stream,
        send: Send,
        capacity: int = 1000,
        on_error: Callable[[BaseException], None] | None = None,
        check: Check | None = None,
    ) -> None:
        self.rt = rt
        self.stream = stream
        self.last_seq = 0
        self.overflowed = False
        self._send = send
        self._capacity = capacity
        self._on_error = on_error
        self._check = check
        self._queue: deque[object] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._started = False
        self._failed = False

    # -- producers (never block) ---------------------------------------------------------------

    def offer(self, envelope: Envelope) -> None:
        self._put(envelope)

    def resync(self) -> None:
        if self._check is not None:
            self._put(_CHECK)
        self._put(_RESYNC)

    def push(self, frame: dict[str, Any]) -> None:
        """A frame for this socket only (ready, ack, error, pong): sent in queue order."""
        self._put(json.dumps(frame, separators=(",", ":")))

    def push_text(self, text: str) -> None:
        """`push` for a frame already encoded."""
        self._put(text)

    def _put(self, item: object) -> None:
        queue = self._queue
        if queue is None:
            queue = self._queue = deque()
        if len(queue) >= self._capacity:
            self.overflowed = True
        else:
            queue.append(item)
        if self._writer is None and self._started and not self._failed:
            self._spawn()

    # -- the writer ----------------------------------------------------------------------------

    def start(self, after: int) -> None:
        """Replay the stream after `after`, then deliver live events as they come.

        A failure (SlowConsumer when the socket fell `capacity` frames behind, or a failed send)
        stops the follower and goes to `on_error`.
        """
        self.last_seq = after
        if self._queue is None:
            self._queue = deque()
        self._queue.appendleft(_RESYNC)  # before whatever arrived since the socket followed
        if self._check is not None:  # access may have ended between `auth` and the follow
            self._queue.appendleft(_CHECK)
        self._started = True
        self._spawn()

    async def run(self, after: int) -> None:
        """`start`, then wait until the follower fails (raised here) or this task is cancelled."""
        failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def fail(error: BaseException) -> None:
            if not failed.done():
                failed.set_exception(error)

        self._on_error = fail
        self.start(after)
        try:
            await failed
        finally:
            await self.stop()

    async def stop(self) -> None:
        """No more frames leave: the writer, if one is running, is cancelled and waited for."""
        self._failed = True
        writer, self._writer = self._writer, None
        if writer is not None and not writer.done():
            writer.cancel()
            with contextlib.suppress(BaseException):  # its outcome no longer matters
                await writer

    def _spawn(self) -> None:
        writer = self._writer = asyncio.get_running_loop().create_task(self._drain())
        writer.add_done_callback(self._drained)

    def _drained(self, writer: asyncio.Task[None]) -> None:
        if writer.cancelled():
            return
        error = writer.exception()
        if error is None:
            return
        self._failed = True
        if self._writer is writer:
            self._writer = None
        if self._on_error is not None:
            self._on_error(error)

    async def _drain(self) -> None:
        queue = self._queue
        assert queue is not None
        while queue:
            if self.overflowed:
                raise SlowConsumer
            item = queue.popleft()
            if isinstance(item, str):
                await self._send(item)
            elif item is _RESYNC:
                await self._catch_up()
            elif item is _CHECK:
                assert self._check is not None
                await self._check()
            else:
                assert isinstance(item, Envelope)
                await self._deliver(item)
        if self.overflowed:
            raise SlowConsumer
        # Nothing waits: this writer ends, and the next frame starts another. No await between
        # the emptiness check and here, so no frame can slip in unseen.
        self._writer = None
        self._queue = None

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
