"""`SqlRatings`: visitors' ratings, one per resolution of a conversation."""

from __future__ import annotations

from sqlalchemy import select

from causerie.domain.ratings import Rating
from causerie.store import codec
from causerie.store.db import SqlRepository
from causerie.store.schema.chat import ratings


class SqlRatings(SqlRepository):
    __slots__ = ()

    async def put(self, rating: Rating) -> Rating:
        values = {
            "id": rating.id,
            "website_id": rating.website_id,
            "conversation_id": rating.conversation_id,
            "operator_id": rating.operator_id,
            "resolved_at": rating.resolved_at,
            "rating": rating.rating,
            "comment": rating.comment,
            "created_at": rating.created_at,
        }
        stmt = self._db.insert(ratings).values(values)
        await self._db.execute(
            stmt.on_conflict_do_update(
                index_elements=["conversation_id", "resolved_at"],
                set_={
                    "rating": stmt.excluded.rating,
                    "comment": stmt.excluded.comment,
                    "created_at": stmt.excluded.created_at,
                },
            )
        )
        row = await self._db.one(
            select(ratings).where(
                ratings.c.conversation_id == rating.conversation_id,
                ratings.c.resolved_at == rating.resolved_at,
            )
        )
        assert row is not None
        return codec.rating(row)

    async def get_many(self, ids: list[str]) -> dict[str, Rating]:
        if not ids:
            return {}
        rows = await self._db.execute(select(ratings).where(ratings.c.id.in_(ids)))
        return {row.id: codec.rating(row) for row in rows}

    async def list_for_conversation(self, conversation_id: str) -> list[Rating]:
        rows = await self._db.execute(
            select(ratings)
            .where(ratings.c.conversation_id == conversation_id)
            .order_by(ratings.c.resolved_at)
        )
        return [codec.rating(row) for row in rows]
