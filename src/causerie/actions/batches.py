"""Group commit at the action level: concurrent writes of one website in one transaction.

docs/realtime.md, "Durability and group commit". A message send is a *part*: a function of a
transaction. Parts that arrive while a lane's transaction is running wait together and form its
next batch: one transaction, one commit, then every caller resumes, in the order the parts ran.
A part that raises is undone alone and gets its own error. Nothing is acknowledged before that
commit; when it fails, every part of the batch gets its error.

Parts first run without savepoints (`Tx.part`): most that fail do so before they write (a
session gone, a refusal, a limit), and are undone in memory. One that fails after writing
rolls the batch back, and the batch runs again with a savepoint per part (`Tx.savepoint`). So
does a batch whose held-back writes the database refuses at the end (a message's `client_id`
stored by another transaction meanwhile: without savepoints, its row waits for that flush).

A part may also name a *bulk* form of itself (`Bulk`, and its item): consecutive parts of one
bulk form run as one call over their items, which refuses each item that fails a check on its
own and writes the rest together (`actions/message_batch.py`). A bulk call handles a prefix of
its items; the first it leaves runs as its own part, and the next ones form a bulk call again.
A bulk call that fails as a whole is a part that failed: undone in memory, its parts run one by
one, or the batch runs again with savepoints, one part each (the parts' own form).

A lane is a website: on PostgreSQL a website's messages take turns on its stream counter's row
lock, so each of them was one fsync; batched, a website's burst is one commit. Websites still
commit side by side. On SQLite the store already shares one fsync among concurrent transactions;
a batch spares each message its own transaction (its lock turn, savepoint and context). A batch
with parts waiting behind it commits early where the store can (`Tx.commit_early`, PostgreSQL):
the next batch runs while this one's commit reaches the disk, and this one's callers resume
once it has.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from causerie.domain.ports import PartNotUndone, Store, TransactionLost, TransactionRaced, Tx

T = TypeVar("T")
Part = Callable[[Tx], Awaitable[Any]]
# Each part's outcome: (True, its result) or (False, its own error).
Outcome = tuple[bool, Any]
# A bulk form of parts: their items in, the outcomes of a prefix of them out (in order).
Bulk = Callable[[Tx, list[Any]], Awaitable[list[Outcome]]]
# What parts will read, read for the whole batch before they run (one statement, not one per
# part): a function of the transaction and the keys its parts gave (a session's id each).
ReadAhead = Callable[[Tx, list[str]], Awaitable[None]]

# Parts per transaction at most: a batch holds its website's stream lock until it commits, and
# every caller in it waits for the slowest part.
MAX_BATCH = 256
# Turns of the event loop a lane lets pass after a batch committed, when more parts wait, before
# it runs the next one: the batch's callers resume and queue their acks, and the hub hands the
# events to the sockets' writers (one turn), which send them (the next). Without them the next
# batch ran first, in one stretch of the loop, and every ack and event of this one waited for it
# (docs/performance.md, "Acks and events before the next batch").
DELIVERY_TURNS = 2
# Times a batch is run again when PostgreSQL ended it to break a deadlock with another
# transaction (two nodes' batches of one website taking its rows in different orders): the loser
# rolls back whole, so the other one goes on, and the retry waits behind it.
RETRIES = 3

# Set by a caller that must know when its part has its place in its lane: `run` sets this
# future's result once the part is queued, before it waits for the commit. A socket hands on its
# next `message.send` only then, so that its messages keep the order it sent them in while each
# waits for its own commit (web/sockets.py, `_Sends`).
QUEUED: ContextVar[asyncio.Future[None] | None] = ContextVar("causerie_part_queued", default=None)


class _Waiting:
    __slots__ = ("ahead", "bulk", "future", "part")

    def __init__(
        self,
        part: Part,
        future: asyncio.Future[Any],
        ahead: tuple[ReadAhead, str] | None,
        bulk: tuple[Bulk, Any] | None,
    ) -> None:
        self.part = part
        self.future = future
        self.ahead = ahead
        self.bulk = bulk


class Batcher:
    """The lanes of one process, each draining its waiting parts batch after batch."""

    def __init__(self, limit: int = MAX_BATCH, retries: int = RETRIES) -> None:
        self._limit = limit
        self._retries = retries
        self._lanes: dict[tuple[int, str], list[_Waiting]] = {}
        self._drains: set[asyncio.Task[None]] = set()
        self.batches = 0  # transactions begun so far (tests and the bench read it)
        self.parts = 0  # parts run in them
        self.retries = 0  # batches run again after losing a race
        self.reruns = 0  # batches run again with savepoints (a part failed after writing)
        self.bulks = 0  # bulk calls (parts run together)
        self.bulk_parts = 0  # parts that a bulk call handled
        self.early = 0  # batches committed early (`Tx.commit_early`)

    async def run(
        self,
        store: Store,
        lane: str,
        part: Callable[[Tx], Awaitable[T]],
        ahead: tuple[ReadAhead, str] | None = None,
        bulk: tuple[Bulk, Any] | None = None,
    ) -> T:
        """Run `part` in the lane's next transaction; its result once that transaction has
        committed. Its exception (the part's own, or the commit's) is raised here. `ahead`: a
        read the part will make and its key; the batch runs it once for all its parts' keys
        before them (it fails the batch if it raises). `bulk`: `(run, item)`, the part's bulk
        form, whose outcome for `item` must be what `part` would give."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        key = (id(store), lane)
        waiting = self._lanes.get(key)
        if waiting is None:
            waiting = self._lanes[key] = []
            drain = loop.create_task(self._drain(store, key, waiting), name="causerie-batch")
            self._drains.add(drain)
            drain.add_done_callback(self._drains.discard)
        waiting.append(_Waiting(part, future, ahead, bulk))
        queued = QUEUED.get()
        if queued is not None and not queued.done():
            queued.set_result(None)
        # Not shielded: a caller that goes away before its turn leaves its part unrun; once the
        # part ran, it stays in the batch (a client sends the same client_id again).
        return await future

    async def _drain(self, store: Store, key: tuple[int, str], waiting: list[_Waiting]) -> None:
        try:
            while waiting:
                batch = waiting[: self._limit]
                del waiting[: self._limit]
                await self._store(store, batch, waiting)
                if waiting:
                    for _ in range(DELIVERY_TURNS):
                        await asyncio.sleep(0)
        finally:
            # No await between the last look at `waiting` and here: no part is left behind,
            # unless the drain itself was cancelled (the server stopping): its callers are too.
            del self._lanes[key]
            for left in waiting:
                left.future.cancel()

    async def _store(self, store: Store, batch: list[_Waiting], behind: list[_Waiting]) -> None:
        attempt = 0
        careful = False  # each part in a savepoint
        while True:
            try:
                await self._attempt(
                    store, batch, behind, last=attempt == self._retries, careful=careful
                )
                return
            except TransactionRaced:
                # Nothing of the batch committed, and the other transaction went on: its parts
                # run again in a new one, in the same order.
                self.retries += 1
                attempt += 1
            except PartNotUndone:
                # Rolled back whole: again, each part undone alone if it fails (that one will).
                self.reruns += 1
                careful = True

    async def _attempt(
        self,
        store: Store,
        batch: list[_Waiting],
        behind: list[_Waiting],
        *,
        last: bool,
        careful: bool,
    ) -> None:
        """One transaction for the batch. Raises `TransactionRaced` when the database ended it to
        break a deadlock, unless `last`: then every part gets that error, as for any other.
        Unless `careful`, parts run without savepoints, and `PartNotUndone` is raised (nothing
        settled) when one fails after writing. With parts `behind` it at its end, it commits
        early where the store can: its callers are settled once it is durable."""
        outcomes: list[Outcome] = []
        early = False
        self.batches += 1
        try:
            async with store.transaction() as tx:
                # The first thing once committed: each caller resumes (its ack is sent) before
                # the parts' own callbacks publish their events, as an unbatched send would.
                tx.on_commit(lambda: _settle_all(batch, outcomes))
                await _read_ahead(tx, batch)
                if len(batch) == 1 and not batch[0].future.done():
                    # Alone: its failure is the transaction's, no savepoint needed.
                    self.parts += 1
                    outcomes.append((True, await batch[0].part(tx)))
                elif careful:
                    for waiting in batch:
                        outcomes.append(await self._run_part(tx, waiting, careful=True))
                else:
                    await self._run_parts(tx, batch, outcomes)
                    # What the parts held back, now: a message whose client_id another
                    # transaction stored meanwhile fails it, and the batch runs again.
                    async with tx.part():
                        await tx.flush()
                if behind:  # the next batch need not wait for this one's fsync
                    early = tx.commit_early(lambda error: _fail_all(batch, outcomes, error))
                    self.early += early
        except Exception as exc:
            if isinstance(exc, TransactionRaced) and not last:
                raise
            if isinstance(exc, PartNotUndone) and not careful:
                raise
            _fail_all(batch, outcomes, exc)
            return
        except BaseException:  # cancelled: so are the callers still waiting on this batch
            for waiting in batch:
                waiting.future.cancel()
            raise
        if not early:  # settled already, unless the store runs no callbacks
            _settle_all(batch, outcomes)

    async def _run_parts(self, tx: Tx, batch: list[_Waiting], outcomes: list[Outcome]) -> None:
        """The batch's parts without savepoints, in order, runs of one bulk form together."""
        at = 0
        while at < len(batch):
            run = _bulk_run(batch, at)
            done = await self._run_bulk(tx, run) if len(run) > 1 else None
            if done is None:  # no bulk form, or it failed before writing: one by one
                for waiting in run:
                    outcomes.append(await self._run_part(tx, waiting, careful=False))
                at += len(run)
                continue
            outcomes.extend(done)
            at += len(done)
            if len(done) < len(run):  # the first it left, as its own part
                outcomes.append(await self._run_part(tx, batch[at], careful=False))
                at += 1

    async def _run_bulk(self, tx: Tx, run: list[_Waiting]) -> list[Outcome] | None:
        """The outcomes of the prefix of `run` its bulk form handled; None if it failed before
        writing (undone in memory)."""
        bulk = run[0].bulk
        assert bulk is not None
        self.bulks += 1
        try:
            async with tx.part():
                done = await bulk[0](tx, [waiting.bulk[1] for waiting in run if waiting.bulk])
        except (TransactionLost, PartNotUndone):
            raise  # the whole batch fails, or runs again
        except Exception:
            return None
        self.parts += len(done)
        self.bulk_parts += len(done)
        return done

    async def _run_part(self, tx: Tx, waiting: _Waiting, careful: bool) -> Outcome:
        if waiting.future.done():  # its caller went away before its turn: not run
            return False, None
        self.parts += 1
        try:
            async with tx.savepoint() if careful else tx.part():
                return True, await waiting.part(tx)
        except (TransactionLost, PartNotUndone):
            raise  # the whole batch fails, or runs again
        except Exception as exc:
            return False, exc

    def waiting(self, store: Store, lane: str) -> int:
        """Parts queued in a lane and not yet taken into a batch (tests read it)."""
        return len(self._lanes.get((id(store), lane), ()))

    async def idle(self) -> None:
        """Until every batch under way has committed or failed (closing the store after)."""
        while self._drains:
            await asyncio.wait(set(self._drains))


def _bulk_run(batch: list[_Waiting], at: int) -> list[_Waiting]:
    """The parts from `at` on that share its bulk form, their callers still waiting."""
    first = batch[at]
    if first.bulk is None or first.future.done():
        return [first]
    run = [first]
    for waiting in batch[at + 1 :]:
        if waiting.bulk is None or waiting.bulk[0] is not first.bulk[0] or waiting.future.done():
            break
        run.append(waiting)
    return run


async def _read_ahead(tx: Tx, batch: list[_Waiting]) -> None:
    keys: dict[ReadAhead, list[str]] = {}
    for waiting in batch:
        if waiting.ahead is not None and not waiting.future.done():
            read, key = waiting.ahead
            keys.setdefault(read, []).append(key)
    for read, of_parts in keys.items():
        await read(tx, of_parts)


def _fail_all(batch: list[_Waiting], outcomes: list[Outcome], error: Exception) -> None:
    """Nothing of the batch is known committed: a part that failed on its own says why, every
    other one gets the transaction's error (a full disk, a lost connection, a race lost once too
    often, or the error of a part that ran alone)."""
    for at, waiting in enumerate(batch):
        ok, value = outcomes[at] if at < len(outcomes) else (True, None)
        _settle(waiting.future, False, error if ok or value is None else value)


def _settle_all(batch: list[_Waiting], outcomes: list[Outcome]) -> None:
    for waiting, (ok, value) in zip(batch, outcomes, strict=True):
        _settle(waiting.future, ok, value)


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
    elif value is not None:
        future.set_exception(value)
