"""`SqlMessages`: the messages of conversations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from causerie.domain.models import Message
from causerie.store import codec, statements
from causerie.store.db import SqlRepository
from causerie.store.schema.chat import messages


class SqlMessages(SqlRepository):
    __slots__ = ()

    async def insert(self, message: Message) -> bool:
        inserted = await self._db.write(
            statements.upserts(self._db.dialect).insert_message,
            {
                "id": message.id,
                "conversation_id": message.conversation_id,
                "author": message.author.value,
                "operator_id": message.operator_id,
                "type": message.type.value,
                "body": message.body,
                "client_id": message.client_id,
                "created_at": message.created_at,
                "event": message.event,
            },
        )
        return inserted > 0

    async def get(self, conversation_id: str, message_id: str) -> Message | None:
        return await self._db.fetch_one(
            statements.MESSAGE_BY_ID, {"conversation": conversation_id, "id": message_id}
        )

    async def get_by_client_id(self, conversation_id: str, client_id: str) -> Message | None:
        return await self._db.fetch_one(
            statements.MESSAGE_BY_CLIENT_ID,
            {"conversation": conversation_id, "client_id": client_id},
        )

    async def get_many(self, ids: list[str]) -> dict[str, Message]:
        if not ids:
            return {}
        rows = await self._db.execute(statements.MESSAGE_SELECT.where(messages.c.id.in_(ids)))
        return {row.id: codec.message(row) for row in rows}

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
        latest = await self._db.fetch_all(
            statements.LATEST_MESSAGES[include_notes, before is not None], params
        )
        latest.reverse()
        return latest
