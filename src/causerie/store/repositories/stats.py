"""`SqlStats`: per-network counts (P18) and a website's daily counts (P3): aggregates only."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, literal, select

from causerie.store import statements
from causerie.store.db import SqlRepository
from causerie.store.schema.chat import conversations, messages


class SqlStats(SqlRepository):
    __slots__ = ()

    async def count_network(self, network: str, day: date, *, sessions: int, messages: int) -> None:
        # Held back and merged with the transaction's other counts of the network's day.
        await self._db.add_later(
            statements.upserts(self._db.dialect).count_network,
            (network, day),
            {
                "n_network": network,
                "n_day": day,
                "n_sessions": sessions,
                "n_messages": messages,
                "n_more_sessions": sessions,
                "n_more_messages": messages,
            },
            ("n_sessions", "n_messages", "n_more_sessions", "n_more_messages"),
        )

    async def daily_counts(self, website_id: str, since: datetime) -> list[tuple[str, str, int]]:
        started = (
            select(
                func.date(conversations.c.created_at).label("day"),
                literal("conversations").label("what"),
                func.count().label("n"),
            )
            .where(conversations.c.website_id == website_id, conversations.c.created_at >= since)
            .group_by(func.date(conversations.c.created_at))
        )
        written = (
            select(
                func.date(messages.c.created_at).label("day"),
                messages.c.author.label("what"),
                func.count().label("n"),
            )
            .join(conversations, conversations.c.id == messages.c.conversation_id)
            .where(
                conversations.c.website_id == website_id,
                messages.c.created_at >= since,
                messages.c.type != "note",
            )
            .group_by(func.date(messages.c.created_at), messages.c.author)
        )
        rows = list(await self._db.execute(started)) + list(await self._db.execute(written))
        return [(str(row.day), str(row.what), int(row.n)) for row in rows]
