"""`SqlEvents`: the event log, each stream numbered by `seq` (docs/realtime.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from causerie.domain.events import NewEvent, StoredEvent
from causerie.store import codec, statements
from causerie.store.db import SqlRepository
from causerie.store.schema import events


class SqlEvents(SqlRepository):
    __slots__ = ()

    async def append(self, new: list[NewEvent]) -> list[int]:
        """Give each event its stream's next seq, in order: one statement moves every stream
        forward (its row lock orders concurrent writers), one more inserts every row."""
        steps: dict[str, int] = {}
        owners: dict[str, str | None] = {}
        for event in new:
            steps[event.stream] = steps.get(event.stream, 0) + 1
            owners.setdefault(event.stream, event.owner)
        last = await self._bump_streams(steps, owners)
        # Each stream's events take the seqs up to its new last one, in the order given.
        next_seq = {stream: last[stream] - step + 1 for stream, step in steps.items()}
        seqs = []
        for event in new:
            seqs.append(next_seq[event.stream])
            next_seq[event.stream] += 1
        await self._db.write_many(
            statements.INSERT_EVENT,
            [
                {
                    "stream": e.stream,
                    "seq": seq,
                    "type": e.type.value,
                    "object_id": e.object_id,
                    "session_id": e.session_id,
                    "data": e.data,
                    "created_at": e.created_at,
                }
                for e, seq in zip(new, seqs, strict=True)
            ],
        )
        return seqs

    async def append_later(self, new: list[NewEvent]) -> Callable[[], list[int]]:
        pending = self._db.pending
        if pending is None:  # not in a transaction that holds writes back: now
            seqs = await self.append(new)
            return lambda: seqs
        return pending.add_events(new)

    async def _bump_streams(
        self, steps: dict[str, int], owners: dict[str, str | None]
    ) -> dict[str, int]:
        # Streams in a fixed order, so that two transactions never wait on each other's rows.
        params: dict[str, Any] = {}
        for i, stream in enumerate(sorted(steps)):
            params.update(
                {f"stream{i}": stream, f"step{i}": steps[stream], f"session{i}": owners[stream]}
            )
        bump = statements.upserts(self._db.dialect).bump_streams(len(steps))
        return dict(await self._db.fetch_all(bump, params))

    async def list_after(self, stream: str, after: int, limit: int) -> list[StoredEvent]:
        rows = await self._db.execute(
            select(events)
            .where(events.c.stream == stream, events.c.seq > after)
            .order_by(events.c.seq)
            .limit(limit)
        )
        return [codec.event(row) for row in rows]

    async def last_seq(self, stream: str) -> int:
        last = await self._db.fetch_one(statements.LAST_SEQ, {"stream": stream})
        return last or 0
