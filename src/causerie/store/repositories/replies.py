"""`SqlCannedReplies`: a website's canned replies, one per shortcut."""

from __future__ import annotations

from sqlalchemy import and_, delete, exists, select, update

from causerie.domain.replies import CannedReply
from causerie.store import codec
from causerie.store.db import SqlRepository
from causerie.store.schema.chat import canned_replies

_c = canned_replies.c


class SqlCannedReplies(SqlRepository):
    __slots__ = ()

    async def list_for_website(self, website_id: str) -> list[CannedReply]:
        rows = await self._db.execute(
            select(canned_replies).where(_c.website_id == website_id).order_by(_c.shortcut)
        )
        return [codec.canned_reply(row) for row in rows]

    async def get(self, website_id: str, reply_id: str) -> CannedReply | None:
        row = await self._db.one(
            select(canned_replies).where(_c.id == reply_id, _c.website_id == website_id)
        )
        return None if row is None else codec.canned_reply(row)

    async def insert(self, reply: CannedReply) -> bool:
        result = await self._db.execute(
            self._db.insert(canned_replies)
            .values(
                id=reply.id,
                website_id=reply.website_id,
                shortcut=reply.shortcut,
                title=reply.title,
                body=reply.body,
                created_at=reply.created_at,
                updated_at=reply.updated_at,
            )
            .on_conflict_do_nothing()
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def update(self, reply: CannedReply) -> bool:
        other = canned_replies.alias("other")
        taken = exists().where(
            and_(
                other.c.website_id == reply.website_id,
                other.c.shortcut == reply.shortcut,
                other.c.id != reply.id,
            )
        )
        result = await self._db.execute(
            update(canned_replies)
            .where(_c.id == reply.id, _c.website_id == reply.website_id, ~taken)
            .values(
                shortcut=reply.shortcut,
                title=reply.title,
                body=reply.body,
                updated_at=reply.updated_at,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def delete(self, website_id: str, reply_id: str) -> bool:
        result = await self._db.execute(
            delete(canned_replies).where(_c.id == reply_id, _c.website_id == website_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
