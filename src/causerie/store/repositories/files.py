"""`SqlFiles`: the rows of the chat's files (the bytes are in the file store)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update

from causerie.domain.files import FileRecord, PlacedFile
from causerie.store.codec import Codec
from causerie.store.db import SqlRepository
from causerie.store.schema.chat import conversations, files, messages

_record = Codec(FileRecord, list(files.c))
_N = len(files.c)
_PLACED = select(
    *files.c,
    conversations.c.id,
    conversations.c.website_id,
    conversations.c.session_id,
    messages.c.type,
).select_from(
    files.join(messages, files.c.message_id == messages.c.id).join(
        conversations, messages.c.conversation_id == conversations.c.id
    )
)


def _placed(row: Any) -> PlacedFile:
    return PlacedFile(_record(row), row[_N], row[_N + 1], row[_N + 2], row[_N + 3])


def _expiring(
    cutoff: datetime, website_id: str | None, newer_than: datetime | None
) -> list[ColumnElement[bool]]:
    where = [files.c.created_at <= cutoff, files.c.expired_at.is_(None)]
    if newer_than is not None:
        where.append(files.c.created_at > newer_than)
    if website_id is not None:
        in_website = (
            select(messages.c.id)
            .join(conversations, messages.c.conversation_id == conversations.c.id)
            .where(messages.c.id == files.c.message_id, conversations.c.website_id == website_id)
            .exists()
        )
        where.append(in_website)
    return where


def _keys(rows: list[Any]) -> list[str]:
    """The store keys of rows (id, store_key, thumbnail_key)."""
    return [str(key) for row in rows for key in row[1:] if key is not None]


class SqlFiles(SqlRepository):
    __slots__ = ()

    async def insert(self, record: FileRecord) -> None:
        await self._db.execute(
            files.insert().values(
                id=record.id,
                message_id=record.message_id,
                name=record.name,
                size=record.size,
                content_type=record.content_type,
                store_key=record.store_key,
                thumbnail_key=record.thumbnail_key,
                created_at=record.created_at,
                expired_at=record.expired_at,
            )
        )

    async def get_placed(self, file_id: str) -> PlacedFile | None:
        row = await self._db.one(_PLACED.where(files.c.id == file_id))
        return None if row is None else _placed(row)

    async def list_for_sessions(self, session_ids: Collection[str]) -> list[PlacedFile]:
        if not session_ids:
            return []
        rows = await self._db.execute(
            _PLACED.where(conversations.c.session_id.in_(list(session_ids))).order_by(
                messages.c.seq
            )
        )
        return [_placed(row) for row in rows]

    async def take_orphans(self, limit: int) -> list[str]:
        rows = list(
            await self._db.execute(
                select(files.c.id, files.c.store_key, files.c.thumbnail_key)
                .where(files.c.message_id.is_(None))
                .limit(limit)
            )
        )
        if not rows:
            return []
        await self._db.execute(delete(files).where(files.c.id.in_([row[0] for row in rows])))
        return _keys(rows)

    async def count_expiring(
        self, cutoff: datetime, website_id: str | None, newer_than: datetime | None
    ) -> int:
        return await self._db.count(
            select(func.count()).where(*_expiring(cutoff, website_id, newer_than))
        )

    async def expire(
        self,
        cutoff: datetime,
        at: datetime,
        limit: int,
        website_id: str | None,
        newer_than: datetime | None,
    ) -> tuple[int, list[str]]:
        rows = list(
            await self._db.execute(
                select(files.c.id, files.c.store_key, files.c.thumbnail_key)
                .where(*_expiring(cutoff, website_id, newer_than))
                .limit(limit)
            )
        )
        if not rows:
            return 0, []
        await self._db.execute(
            update(files)
            .where(files.c.id.in_([row[0] for row in rows]))
            .values(expired_at=at, store_key=None, thumbnail_key=None)
        )
        return len(rows), _keys(rows)

    async def known_keys(self, keys: Collection[str]) -> set[str]:
        if not keys:
            return set()
        wanted = list(keys)
        rows = await self._db.execute(
            select(files.c.store_key, files.c.thumbnail_key).where(
                or_(files.c.store_key.in_(wanted), files.c.thumbnail_key.in_(wanted))
            )
        )
        held = {key for row in rows for key in row if key is not None}
        return held & set(wanted)
