"""`SqlEvents`: the event log, each stream numbered by `seq` (docs/realtime.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from causerie.domain.events import EventType, NewEvent, StoredEvent
from causerie.store import sqlite_hot, statements
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
        raw = self._db.raw
        if raw is not None:
            db_time, db_json = sqlite_hot.db_time, sqlite_hot.db_json
            raw.executemany(
                sqlite_hot.INSERT_EVENT,
                [
                    (
                        e.stream,
                        seq,
                        e.type.value,
                        e.object_id,
                        e.session_id,
                        db_json(e.data),
                        db_time(e.created_at),
                    )
                    for e, seq in zip(new, seqs, strict=True)
                ],
            )
        else:
            await self._db.execute(
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

    async def _bump_streams(
        self, steps: dict[str, int], owners: dict[str, str | None]
    ) -> dict[str, int]:
        raw = self._db.raw
        if raw is not None:
            params: list[Any] = []
            for stream, step in steps.items():
                params += (stream, step, owners[stream])
            rows = raw.execute(sqlite_hot.bump_streams(len(steps)), params).fetchall()
            return {stream: int(last) for stream, last in rows}
        last = {}
        # Streams in a fixed order, so that two transactions never wait on each other's rows.
        for stream in sorted(steps):
            bumped = await self._db.execute(
                self._db.prepared["bump_stream"],
                {
                    "b_stream": stream,
                    "b_session": owners[stream],
                    "b_step": steps[stream],
                    "b_more": steps[stream],
                },
            )
            last[stream] = int(bumped.scalar_one())
        return last

    async def list_after(self, stream: str, after: int, limit: int) -> list[StoredEvent]:
        rows = await self._db.execute(
            select(events)
            .where(events.c.stream == stream, events.c.seq > after)
            .order_by(events.c.seq)
            .limit(limit)
        )
        return [
            StoredEvent(
                stream=row.stream,
                seq=row.seq,
                type=EventType(row.type),
                object_id=row.object_id,
                session_id=row.session_id,
                created_at=row.created_at,
                data=dict(row.data),
            )
            for row in rows
        ]

    async def last_seq(self, stream: str) -> int:
        row = await self._db.one(statements.LAST_SEQ, {"stream": stream})
        return int(row.last_seq) if row else 0
