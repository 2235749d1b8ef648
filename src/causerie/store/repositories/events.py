"""`SqlEvents`: the event log, each stream numbered by `seq` (docs/realtime.md)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from causerie.domain.events import NewEvent, StoredEvent
from causerie.store import codec, statements
from causerie.store.db import SqlRepository
from causerie.store.schema.chat import events


class SqlEvents(SqlRepository):
    __slots__ = ()

    async def append(self, new: list[NewEvent]) -> list[int]:
        """One statement moves every stream forward (its row lock orders concurrent writers),
        one more inserts every row (store/pending.py), after the events held back."""
        return await self._db.append_events(new)

    async def append_later(self, new: list[NewEvent]) -> Callable[[], list[int]]:
        pending = self._db.pending
        if pending is None:  # not in a transaction that holds writes back: now
            seqs = await self.append(new)
            return lambda: seqs
        return pending.add_events(new)

    async def list_after(self, stream: str, after: int, limit: int) -> list[StoredEvent]:
        rows = await self._db.execute(
            select(events)
            .where(events.c.stream == stream, events.c.seq > after)
            .order_by(events.c.seq)
            .limit(limit)
        )
        found = [codec.event(row) for row in rows]
        await self._db.made_durable()  # a client resumes from what it is told
        return found

    async def last_seq(self, stream: str) -> int:
        last = await self._db.fetch_one(statements.LAST_SEQ, {"stream": stream})
        await self._db.made_durable()
        return last or 0
