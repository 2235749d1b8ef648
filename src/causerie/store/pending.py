"""`Pending`: writes a transaction holds back and runs set-based just before it commits.

docs/realtime.md, "Durability and group commit". A batch of N messages would otherwise run, for
each message, its own stream bump, event insert and counter upserts. Two kinds of write wait
here instead, and each kind runs as one statement for the whole transaction:

- event rows (`add_events`): at the flush, one statement moves every stream they touch forward
  (in a fixed order, so two transactions never wait on each other's rows) and one multi-row
  insert stores them; their seqs are known from then on (`Seqs`, read by on-commit callbacks);
- additive writes (`add`): counters such as the report hours and the networks' daily counts,
  a conversation's touch; rows of one statement with the same key are merged into one by
  summing their counts (the other values are the last row's).

Rows a batch reads for each of its parts (a website's webhooks; its sessions and their
conversations, read for the whole batch at once) can be kept for the transaction as well
(`reads`), forgotten at any statement that may write their tables; a held-back write to a kept
row is applied to it by the repository that holds it back (the conversation's touch).

Held-back writes must never be missed by a statement of the same transaction: `Db` flushes them
before any statement that may read or write their tables (`must_flush`), a savepoint that rolls
back drops those its part added and runs again those flushed inside it (`mark`, `rollback_to`),
and the store flushes what is left before its commit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from causerie.domain.events import NewEvent

# Tables whose rows event entries write.
_EVENT_TABLES = frozenset({"events", "streams"})
# In the undo log of kept reads: a key that was not kept, and every read forgotten at once.
_ABSENT = object()
_ALL = object()


class Seqs:
    """The seqs of events added to `Pending`, in order: filled when they are flushed."""

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: list[int] = []

    def __call__(self) -> list[int]:
        return self.values


class _Events:
    __slots__ = ("new", "seqs")

    def __init__(self, new: list[NewEvent], seqs: Seqs) -> None:
        self.new = new
        self.seqs = seqs


class _Add:
    __slots__ = ("key", "params", "statement", "sums")

    def __init__(
        self, statement: Any, params: dict[str, Any], sums: tuple[str, ...], key: tuple[Any, ...]
    ) -> None:
        self.statement = statement
        self.params = params
        self.sums = sums
        self.key = key


# How a flush runs its statements (given by the store's `Db`, so that no import cycle forms):
# bump the streams (steps and owners by stream; the new last seq of each), insert event rows,
# run one statement over many parameter sets.
BumpStreams = Callable[[dict[str, int], dict[str, str | None]], Awaitable[dict[str, int]]]
InsertEvents = Callable[[list[dict[str, Any]]], Awaitable[None]]
WriteMany = Callable[[Any, list[dict[str, Any]]], Awaitable[None]]


class Pending:
    """The held-back writes of one transaction, in the order they were added."""

    __slots__ = (
        "_entries",
        "_flushed",
        "_undo",
        "held_keys",
        "optimistic",
        "read_tables",
        "reads",
        "tables",
    )

    def __init__(self) -> None:
        self._entries: list[_Events | _Add] = []
        self._flushed = 0  # entries before this index are in the database already
        self.tables: set[str] = set()  # tables the waiting entries write, or must see them
        # True while a batch's part runs without a savepoint (`Tx.part`): a row whose unique
        # key is only known free at the flush may then be held back, since the batch runs
        # again if the flush finds it taken. The keys held back so far (`hold_key`).
        self.optimistic = False
        self.held_keys: set[Hashable] = set()
        # Rows read once for the transaction (`Db.fetch_all_kept`, `Db.keep`), by key, and the
        # tables they come from.
        self.reads: dict[Hashable, Any] = {}
        self.read_tables: set[str] = set()
        # What each change to `reads` replaced, so that a part undone gives them back as they
        # were when it began (`rollback_to`): (key, its value before or `_ABSENT`), or
        # (`_ALL`, every read before `forget_reads`).
        self._undo: list[tuple[Any, Any]] = []

    def keep(self, key: Hashable, value: Any, tables: frozenset[str]) -> None:
        """Keep `value`, read from `tables`, under `key` (`Db.keep`)."""
        self._undo.append((key, self.reads.get(key, _ABSENT)))
        self.reads[key] = value
        self.read_tables |= tables

    def forget_reads(self) -> None:
        if self.reads:
            self._undo.append((_ALL, self.reads))
            self.reads = {}
        self.read_tables = set()

    @property
    def waiting(self) -> bool:
        return self._flushed < len(self._entries)

    def add_events(self, new: list[NewEvent]) -> Seqs:
        seqs = Seqs()
        self._entries.append(_Events(new, seqs))
        self.tables |= _EVENT_TABLES
        return seqs

    def add(
        self,
        statement: Any,
        key: tuple[Any, ...],
        params: dict[str, Any],
        sums: tuple[str, ...],
        table: str,
    ) -> None:
        """A write that adds `params[s]` for each `s` in `sums` to its row: the entries of one
        statement with the same `key` (its row's) are run as one, their `sums` summed, their
        other parameters the last entry's."""
        self._entries.append(_Add(statement, params, sums, key))
        self.tables.add(table)

    def hold_key(self, key: Hashable, tables: frozenset[str]) -> bool:
        """Whether a row with this unique key may be held back now (then call `add`): only in
        a part without a savepoint, and once per key in a transaction (a second row of it is
        written at once, after the first). `tables`: those whose statements must see the row
        (its own, and those with a foreign key to it)."""
        if not self.optimistic or key in self.held_keys:
            return False
        self.held_keys.add(key)
        self.tables |= tables
        return True

    def mark(self) -> tuple[int, int, int, frozenset[str], frozenset[str]]:
        """Where a savepoint starts: for `rollback_to`."""
        return (
            len(self._entries),
            self._flushed,
            len(self._undo),
            frozenset(self.read_tables),
            frozenset(self.tables),
        )

    def rollback_to(self, mark: tuple[int, int, int, frozenset[str], frozenset[str]]) -> None:
        """The savepoint at `mark` was rolled back: its part's entries go, the entries of
        earlier parts that were flushed inside it (the rollback undid them) wait again, and the
        kept reads are those kept when it began (true again: the database and the entries
        waiting are as they were then). So the parts after one refused do not read their
        sessions again, which ran every held-back write at once."""
        length, flushed, kept, read_tables, tables = mark
        undo = self._undo
        while len(undo) > kept:
            key, before = undo.pop()
            if key is _ALL:
                self.reads = before
            elif before is _ABSENT:
                self.reads.pop(key, None)
            else:
                self.reads[key] = before
        self.read_tables = set(read_tables)
        del self._entries[length:]
        self._flushed = min(self._flushed, flushed)
        # The entries waiting are those that waited then (a flush inside cleared their tables).
        self.tables = set(tables) if self.waiting else set()

    async def flush(
        self, bump: BumpStreams, insert_events: InsertEvents, write_many: WriteMany
    ) -> None:
        entries = self._entries[self._flushed :]
        # Marked flushed first: the statements below go through the same `Db`, which would
        # otherwise flush again before each of them.
        self._flushed = len(self._entries)
        self.tables.clear()
        events = [entry for entry in entries if isinstance(entry, _Events)]
        if events:
            await self._flush_events(events, bump, insert_events)
        adds: dict[int, tuple[Any, dict[tuple[Any, ...], dict[str, Any]]]] = {}
        for entry in entries:
            if isinstance(entry, _Add):
                _, rows = adds.setdefault(id(entry.statement), (entry.statement, {}))
                row = rows.get(entry.key)
                if row is None:
                    rows[entry.key] = dict(entry.params)
                else:
                    merged = rows[entry.key] = dict(entry.params)
                    for name in entry.sums:
                        merged[name] += row[name]
        for statement, rows in adds.values():
            await write_many(statement, list(rows.values()))

    @staticmethod
    async def _flush_events(
        entries: list[_Events], bump: BumpStreams, insert_events: InsertEvents
    ) -> None:
        steps: dict[str, int] = {}
        owners: dict[str, str | None] = {}
        for entry in entries:
            for event in entry.new:
                steps[event.stream] = steps.get(event.stream, 0) + 1
                owners.setdefault(event.stream, event.owner)
        last = await bump(steps, owners)
        next_seq = {stream: last[stream] - step + 1 for stream, step in steps.items()}
        rows = []
        for entry in entries:
            seqs = []
            for e in entry.new:
                seq = next_seq[e.stream]
                next_seq[e.stream] = seq + 1
                seqs.append(seq)
                rows.append(
                    {
                        "stream": e.stream,
                        "seq": seq,
                        "type": e.type._value_,  # not `.value`: see domain/wire.py
                        "object_id": e.object_id,
                        "session_id": e.session_id,
                        "data": e.data,
                        "created_at": e.created_at,
                    }
                )
            entry.seqs.values = seqs
        await insert_events(rows)
