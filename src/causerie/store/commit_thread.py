"""The thread that runs SQLite's commits, their fsync, off the event loop (`SqliteStore`).

One thread of its own, handed each commit through a queue and answering on the loop with
`call_soon_threadsafe`: `run_in_executor` on the loop's default pool did the same through a
`concurrent.futures.Future` (its condition's lock taken at each step), a work item, the pool's
locks and semaphore, and a chain of callbacks between the two futures, all of it once per
batch (docs/performance.md, "relay3").
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from queue import SimpleQueue

_Job = tuple[Callable[[], None], asyncio.AbstractEventLoop, "asyncio.Future[None]"]


class CommitThread:
    """Runs calls one after another in one thread; each call's outcome on its caller's loop."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: SimpleQueue[_Job | None] = SimpleQueue()
        self._thread: threading.Thread | None = None

    def run(self, call: Callable[[], None]) -> asyncio.Future[None]:
        """`call()` in the thread: a future of the loop, its result None or `call`'s error."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        if self._thread is None:
            # A daemon, so that a store never closed does not keep the interpreter from
            # exiting; `close` waits for it. A commit cut by an exit was acknowledged to no one.
            self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
            self._thread.start()
        self._jobs.put((call, loop, future))
        return future

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            call, loop, future = job
            error: BaseException | None = None
            try:
                call()
            except BaseException as exc:  # the caller's to see, on its loop
                error = exc
            # (Its loop closed meanwhile: no one is left to tell.)
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, error)

    def close(self) -> None:
        """Ends the thread once the calls queued before have run (none is under way when the
        store closes: it waited for its commits)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._jobs.put(None)
            thread.join()


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


def group_waiter(waiters: list[asyncio.Future[None]]) -> asyncio.Future[None]:
    """A future for one member of a group to await its commit, settled by `settle_waiters`."""
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    waiters.append(future)
    return future


def settle_waiters(waiters: list[asyncio.Future[None]], error: BaseException | None) -> None:
    """The group's outcome to each member still waiting (one cancelled meanwhile is skipped)."""
    for future in waiters:
        if not future.done():
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)
