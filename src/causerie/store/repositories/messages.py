"""`SqlMessages`: the messages of conversations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from causerie.domain.models import Message
from causerie.store import codec, statements
from causerie.store.db import SqlRepository
from causerie.store.schema.chat import messages

# A held-back message's table, and those whose statements must find it written (files.message_id).
_HELD_TABLES = frozenset({"messages", "files"})


class SqlMessages(SqlRepository):
    __slots__ = ()

    async def insert(self, message: Message) -> bool:
        params = {
            "id": message.id,
            "conversation_id": message.conversation_id,
            "author": message.author._value_,  # not `.value`: see domain/wire.py
            "operator_id": message.operator_id,
            "type": message.type._value_,
            "body": message.body,
            "client_id": message.client_id,
            "created_at": message.created_at,
            "event": message.event,
        }
        db = self._db
        pending = db.pending
        if pending is not None and pending.hold_key(
            ("message", message.conversation_id, message.client_id), _HELD_TABLES
        ):
            # A part of a batch: written with the batch's other rows at its flush, one
            # statement for all; a `client_id` already stored fails that flush, and the batch
            # runs again, each part in a savepoint and its row written at once (below).
            await db.add_later(statements.INSERT_MESSAGE_LATER, ("message", message.id), params, ())
            return True
        inserted = await db.write(statements.upserts(db.dialect).insert_message, params)
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
