"""`SqlLabels`: a website's labels (which conversations hold them: `SqlConversations`)."""

from __future__ import annotations

from sqlalchemy import and_, delete, exists, func, select, update

from causerie.domain.labels import Label
from causerie.store import codec
from causerie.store.db import SqlRepository
from causerie.store.schema.chat import labels

_c = labels.c


class SqlLabels(SqlRepository):
    __slots__ = ()

    async def list_for_website(self, website_id: str) -> list[Label]:
        rows = await self._db.execute(
            select(labels).where(_c.website_id == website_id).order_by(_c.name, _c.id)
        )
        return [codec.label(row) for row in rows]

    async def get(self, website_id: str, label_id: str) -> Label | None:
        row = await self._db.one(
            select(labels).where(_c.id == label_id, _c.website_id == website_id)
        )
        return None if row is None else codec.label(row)

    async def get_to_delete(self, website_id: str, label_id: str) -> Label | None:
        # SQLite renders no FOR UPDATE: its one writer already serialises the transactions.
        row = await self._db.one(
            select(labels).where(_c.id == label_id, _c.website_id == website_id).with_for_update()
        )
        return None if row is None else codec.label(row)

    async def keep(self, website_id: str, label_ids: tuple[str, ...]) -> set[str]:
        if not label_ids:
            return set()
        rows = await self._db.execute(
            select(_c.id)
            .where(_c.website_id == website_id, _c.id.in_(label_ids))
            .order_by(_c.id)  # locks taken in one order by every transaction
            .with_for_update(read=True)
        )
        return {row.id for row in rows}

    async def insert(self, label: Label) -> bool:
        result = await self._db.execute(
            self._db.insert(labels)
            .values(
                id=label.id,
                website_id=label.website_id,
                name=label.name,
                color=label.color,
                created_at=label.created_at,
            )
            .on_conflict_do_nothing()
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def update(self, label: Label) -> bool:
        other = labels.alias("other")
        taken = exists().where(
            and_(
                other.c.website_id == label.website_id,
                other.c.name == label.name,
                other.c.id != label.id,
            )
        )
        result = await self._db.execute(
            update(labels)
            .where(_c.id == label.id, _c.website_id == label.website_id, ~taken)
            .values(name=label.name, color=label.color)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def delete(self, website_id: str, label_id: str) -> bool:
        result = await self._db.execute(
            delete(labels).where(_c.id == label_id, _c.website_id == website_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def count(self, website_id: str) -> int:
        return await self._db.count(
            select(func.count()).select_from(labels).where(_c.website_id == website_id)
        )
