"""`Lane`: at most a few requests at a time through a passage, the others waiting their turn.

asyncio's `Semaphore` hands a freed place to its first waiter, which takes it only a turn of the
event loop later, and every request that comes meanwhile queues behind it even though no place
is in use. Under a steady load of requests that each finish within their turn (a chatbox load
does), such a queue never empties once it has formed: every request waited for a turn of the loop
it did not need (docs/performance.md, "renewal4"). Here a request takes a free place at once,
whoever waits. A waiter woken for a place that was taken meanwhile is owed the next one: it waits
again, first in line, and no newcomer takes a place while a waiter is owed it, so none is passed
over twice. The bound is the same: never more than `places` inside.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from types import TracebackType


class Lane:
    __slots__ = ("_owed", "_waiting", "free")

    def __init__(self, places: int) -> None:
        self.free = places
        self._owed = 0  # waiters passed over once: the next free places are theirs
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def __aenter__(self) -> None:
        if self.free > self._owed:
            self.free -= 1
            return
        owed = False
        while True:
            waiter = asyncio.get_running_loop().create_future()
            if owed:
                self._waiting.appendleft(waiter)
            else:
                self._waiting.append(waiter)
            try:
                await waiter
            except BaseException:
                if owed:
                    self._owed -= 1
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # woken, then cancelled: the place goes to the next one
                else:
                    with contextlib.suppress(ValueError):
                        self._waiting.remove(waiter)
                raise
            if self.free > 0:
                self.free -= 1
                if owed:
                    self._owed -= 1
                return
            if not owed:
                owed = True
                self._owed += 1

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.free += 1
        self._wake()

    def _wake(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
