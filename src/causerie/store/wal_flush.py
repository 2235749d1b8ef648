"""Durability after the commit, on PostgreSQL: many early commits made durable by one flush.

docs/realtime.md, "Durability and group commit". A website's batches follow one another on its
streams' rows, which each holds until its commit returns; a commit that waits for the WAL's
fsync holds them that long (3-8 ms on this project's shared disk), and the website's next batch
waits behind it: a website was one fsync per batch. A batch with parts waiting behind it commits
early instead (`Tx.commit_early`: `synchronous_commit = off` for its COMMIT, which then returns
without waiting for the disk, its locks released), and `WalFlusher` makes it durable while the
next batch runs. Until then nothing of it is told to anyone: its `on_commit` callbacks (the
acks, the events) wait for the flush. A flush covers every commit made before it, so one fsync
makes durable all the batches that committed meanwhile.

A flush is one statement on a pooled connection in autocommit (`FLUSH`): when the WAL is not
yet on disk up to where it ends, a transactional logical message (a WAL record with a
transaction id, not a row) whose commit, synchronous, flushes the WAL up to it, so everything
committed before it too. `pg_logical_emit_message` takes no privilege and works at every
`wal_level`. A PostgreSQL that refuses it leaves the flusher unusable: transactions then commit
as before, waiting for the disk (`usable`).

Callbacks keep the order in which transactions committed: those of a transaction that commits
as before (synchronously, or not durable), while early ones wait for a flush, wait behind them
(`after`, `durable=True`), and run as soon as they have.

Reads of positions in the event log (`Db.made_durable`) flush the same way before they answer:
an early commit is visible before it is durable, and a follower that took a seq from it could
otherwise, after a crash of PostgreSQL in that instant, skip the different event that reuses
the seq.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy.exc import DBAPIError

log = logging.getLogger("causerie.store")

# One statement, in autocommit: a WAL record with a transaction id only when the WAL is not yet
# flushed up to its end (its commit, synchronous, then flushes it); nothing to wait for else.
FLUSH = (
    "SELECT CASE WHEN pg_current_wal_flush_lsn() < pg_current_wal_insert_lsn() "
    "THEN pg_logical_emit_message(true, 'causerie.flush', '') END"
)
# What PostgreSQL answers when it will not run `FLUSH` for this user or this server
# (insufficient_privilege, undefined_function): the flusher is then not used.
_REFUSED = frozenset({"42501", "42883"})

# The driver's connection (asyncpg), in autocommit, for the time of a flush.
Connect = Callable[[], AbstractAsyncContextManager[Any]]


class _Committed:
    __slots__ = ("done", "durable", "lost", "number")

    def __init__(
        self,
        number: int,
        done: Callable[[], None],
        lost: Callable[[Exception], None],
        durable: bool,
    ) -> None:
        self.number = number
        self.done = done
        self.lost = lost
        self.durable = durable  # as durable as it will be: waits only for those before it


class WalFlusher:
    """The early commits of one store waiting for a flush, and the task that flushes them."""

    def __init__(self, connect: Connect) -> None:
        self._connect = connect
        self._waiting: deque[_Committed] = deque()
        self._numbered = 0  # commits noted so far
        self._running: asyncio.Task[None] | None = None
        self._turn = asyncio.Lock()  # one statement at a time on the flusher's connection
        # None: not known yet (the first flush tells); False: PostgreSQL refused `FLUSH`.
        self.usable: bool | None = None
        self.flushes = 0  # statements sent (tests and the bench read it)

    def after(
        self, done: Callable[[], None], lost: Callable[[Exception], None], durable: bool = False
    ) -> None:
        """A commit has just returned: `done` once a flush covers it, in the order of these
        calls, or `lost(error)` instead if the flush fails. `durable`: a commit that needs no
        flush (synchronous, or not meant to be durable): `done` at once, or once the early
        commits noted before it are done with."""
        if durable and not self._waiting:
            done()
            return
        self._numbered += 1
        self._waiting.append(_Committed(self._numbered, done, lost, durable))
        if self._running is None:
            self._running = asyncio.get_running_loop().create_task(
                self._flush_all(), name="causerie-wal-flush"
            )

    def refused(self, error: BaseException) -> bool:
        """Whether `error` is PostgreSQL refusing `FLUSH` (then noted: `usable` is False)."""
        orig = getattr(error, "orig", error)
        code = getattr(orig, "sqlstate", None) or getattr(
            getattr(orig, "__cause__", None), "sqlstate", None
        )
        if code not in _REFUSED:
            return False
        if self.usable is not False:
            self.usable = False
            log.warning(
                "PostgreSQL refused pg_logical_emit_message (%s): each commit waits for the "
                'disk (docs/realtime.md, "Durability and group commit")',
                error,
            )
        return True

    async def probe(self) -> None:
        """Send `FLUSH` once, on a connection of its own, to learn whether PostgreSQL runs it
        (`usable`); early commits wait until then. A failure other than a refusal is left for
        a later probe."""
        try:
            async with self._turn, self._connect() as driver:
                await driver.execute(FLUSH)
        except Exception as exc:
            self.refused(exc)
            return
        self.usable = True

    async def idle(self) -> None:
        """Until no early commit waits for a flush (closing the store after)."""
        while self._running is not None:
            await asyncio.wait([self._running])

    async def _flush_all(self) -> None:
        try:
            while self._waiting:
                upto = self._numbered  # the early commits this flush covers: those noted by now
                try:
                    async with self._turn, self._connect() as driver:
                        self.flushes += 1
                        await driver.execute(FLUSH)
                except Exception as exc:
                    lost = (
                        exc
                        if isinstance(exc, DBAPIError)
                        else DBAPIError("COMMIT", None, exc, connection_invalidated=True)
                    )
                    self._release(upto, lost)
                else:
                    self._release(upto, None)
        finally:
            self._running = None

    def _release(self, upto: int, error: Exception | None) -> None:
        """The commits noted up to `upto`, and the durable ones right after them."""
        waiting = self._waiting
        while waiting and (waiting[0].number <= upto or waiting[0].durable):
            committed = waiting.popleft()
            try:
                if error is None or committed.durable:
                    committed.done()
                else:
                    committed.lost(error)
            except Exception:  # one transaction's callback: the others still run
                log.exception("a callback after a commit failed")
