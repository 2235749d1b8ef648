"""`Lane`: at most a few requests at a time through a passage, the others waiting their turn.

asyncio's `Semaphore` hands a freed place to its first waiter, which takes it only a turn of the
event loop later, and every request that comes meanwhile queues behind it even though no place
is in use. Under a steady load of requests that each finish within their turn (a chatbox load
does), such a queue never empties once it has formed: every request waited for a turn of the loop
it did not need, and the node answered a third as many (docs/performance.md, "renewal4"). Here a
request takes a free place at once, whoever waits; a waiter woken for a place that was taken
meanwhile waits again, first in line. The bound is the same: never more than `places` inside.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from types import TracebackType


class Lane:
    __slots__ = ("_waiting", "free")

    def __init__(self, places: int) -> None:
        self.free = places
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def __aenter__(self) -> None:
        again = False
        while self.free <= 0:
            waiter = asyncio.get_running_loop().create_future()
            if again:
                self._waiting.appendleft(waiter)
            else:
                self._waiting.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # woken, then cancelled: the place goes to the next one
                else:
                    with contextlib.suppress(ValueError):
                        self._waiting.remove(waiter)
                raise
            again = True
        self.free -= 1

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
