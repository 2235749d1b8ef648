"""`SqlMessages`: the messages of conversations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from causerie.domain.models import Message
from causerie.store import sqlite_hot, statements
from causerie.store.db import SqlRepository
from causerie.store.rows import message_from
from causerie.store.schema import messages


class SqlMessages(SqlRepository):
    __slots__ = ()

    async def insert(self, message: Message) -> bool:
        if self._db.raw is not None:
            cursor = self._db.raw.execute(
                sqlite_hot.INSERT_MESSAGE,
                (
                    message.id,
                    message.conversation_id,
                    message.author.value,
                    message.operator_id,
                    message.type.value,
                    message.body,
                    message.client_id,
                    sqlite_hot.db_time(message.created_at),
                ),
            )
            return cursor.rowcount > 0
        result = await self._db.execute(
            self._db.prepared["insert_message"],
            {
                "id": message.id,
                "conversation_id": message.conversation_id,
                "author": message.author.value,
                "operator_id": message.operator_id,
                "type": message.type.value,
                "body": message.body,
                "client_id": message.client_id,
                "created_at": message.created_at,
            },
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def get(self, conversation_id: str, message_id: str) -> Message | None:
        row = await self._db.one(
            statements.MESSAGE_BY_ID, {"conversation": conversation_id, "id": message_id}
        )
        return message_from(row) if row else None

    async def get_by_client_id(self, conversation_id: str, client_id: str) -> Message | None:
        row = await self._db.one(
            statements.MESSAGE_BY_CLIENT_ID,
            {"conversation": conversation_id, "client_id": client_id},
        )
        return message_from(row) if row else None

    async def get_many(self, ids: list[str]) -> dict[str, Message]:
        if not ids:
            return {}
        rows = await self._db.execute(statements.MESSAGE_SELECT.where(messages.c.id.in_(ids)))
        return {row.id: message_from(row) for row in rows}

    async def count(self, conversation_id: str) -> int:
        return await self._db.count(
            select(func.count()).where(messages.c.conversation_id == conversation_id)
        )

    async def list_page(
        self,
        conversation_id: str,
        *,
        limit: int,
        before: str | None = None,
        include_notes: bool,
    ) -> list[Message]:
        params: dict[str, Any] = {"conversation": conversation_id, "limit": limit}
        if before is not None:
            params["before"] = before
        rows = await self._db.execute(
            statements.LATEST_MESSAGES[include_notes, before is not None], params
        )
        return [message_from(row) for row in reversed(rows.all())]
