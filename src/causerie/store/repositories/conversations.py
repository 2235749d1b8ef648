"""`SqlConversations`: conversations, their state, assignee and read marks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from causerie.domain.models import (
    Author,
    Conversation,
    ConversationState,
    ConversationSummary,
    MessageType,
)
from causerie.store import sqlite_hot, statements
from causerie.store.db import SqlRepository
from causerie.store.repositories import conversation_list
from causerie.store.rows import conversation_from
from causerie.store.schema import conversations, messages


class SqlConversations(SqlRepository):
    __slots__ = ()

    async def get(self, conversation_id: str) -> Conversation | None:
        row = await self._db.one(statements.CONVERSATION_BY_ID, {"id": conversation_id})
        return conversation_from(row) if row else None

    async def get_by_session(self, session_id: str) -> Conversation | None:
        row = await self._db.one(statements.CONVERSATION_OF_SESSION, {"session": session_id})
        return conversation_from(row) if row else None

    async def get_many(self, ids: list[str]) -> dict[str, Conversation]:
        if not ids:
            return {}
        rows = await self._db.execute(select(conversations).where(conversations.c.id.in_(ids)))
        return {row.id: conversation_from(row) for row in rows}

    async def insert(self, conversation: Conversation) -> bool:
        raw = self._db.raw
        if raw is not None:
            db_time = sqlite_hot.db_time
            cursor = raw.execute(
                sqlite_hot.INSERT_CONVERSATION,
                (
                    conversation.id,
                    conversation.website_id,
                    conversation.session_id,
                    conversation.state.value,
                    conversation.assignee_id,
                    db_time(conversation.created_at),
                    db_time(conversation.updated_at),
                    db_time(conversation.last_message_at),
                ),
            )
            return cursor.rowcount > 0
        result = await self._db.execute(
            self._db.prepared["insert_conversation"],
            {
                "id": conversation.id,
                "website_id": conversation.website_id,
                "session_id": conversation.session_id,
                "state": conversation.state.value,
                "assignee_id": conversation.assignee_id,
                "created_at": conversation.created_at,
                "updated_at": conversation.updated_at,
                "last_message_at": conversation.last_message_at,
                "unread_by_visitor": 0,
                "unread_by_operator": 0,
            },
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def touch(
        self,
        conversation_id: str,
        at: datetime,
        *,
        reopen: bool,
        unread_for: Author | None,
        returning: bool = False,
    ) -> Conversation | None:
        unread = None if unread_for is None else statements.UNREAD_COLUMN[unread_for.value]
        raw = self._db.raw
        if raw is not None:
            when = sqlite_hot.db_time(at)
            cursor = raw.execute(
                sqlite_hot.TOUCH_CONVERSATION[reopen, unread, returning],
                (when, when, conversation_id),
            )
            if not returning:
                return None
            row = cursor.fetchone()
            cursor.fetchall()  # the statement ends only once every row was read
            return sqlite_hot.conversation_from(row) if row else None
        result = await self._db.execute(
            statements.TOUCH_CONVERSATION[reopen, unread, returning],
            {"t_id": conversation_id, "t_at": at},
        )
        if not returning:
            return None
        found = result.first()
        return conversation_from(found) if found else None

    async def mark_read(self, conversation_id: str, reader: Author, up_to: str) -> bool:
        seq_of = select(messages.c.seq, messages.c.id).where(
            messages.c.conversation_id == conversation_id
        )
        target = await self._db.one(seq_of.where(messages.c.id == up_to))
        if target is None:
            return False
        mark, unread = (
            (conversations.c.visitor_read_up_to, "unread_by_visitor")
            if reader is Author.VISITOR
            else (conversations.c.operator_read_up_to, "unread_by_operator")
        )
        current = await self._db.one(
            seq_of.where(
                messages.c.id
                == select(mark).where(conversations.c.id == conversation_id).scalar_subquery()
            )
        )
        if current is not None and current.seq >= target.seq:
            return False
        other = Author.OPERATOR if reader is Author.VISITOR else Author.VISITOR
        remaining = (
            select(func.count())
            .where(
                messages.c.conversation_id == conversation_id,
                messages.c.seq > target.seq,
                messages.c.author == other.value,
                messages.c.type != MessageType.NOTE.value,
            )
            .scalar_subquery()
        )
        await self._db.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values({mark.name: up_to, unread: remaining})
        )
        return True

    async def set_state(self, conversation_id: str, state: ConversationState, at: datetime) -> None:
        await self._db.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(state=state.value, updated_at=at)
        )

    async def set_assignee(
        self, conversation_id: str, operator_id: str | None, at: datetime
    ) -> None:
        await self._db.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(assignee_id=operator_id, updated_at=at)
        )

    async def unassign_all(self, website_id: str, operator_id: str, at: datetime) -> list[str]:
        where = (
            conversations.c.website_id == website_id,
            conversations.c.assignee_id == operator_id,
        )
        ids = [row.id for row in await self._db.execute(select(conversations.c.id).where(*where))]
        if ids:
            await self._db.execute(
                update(conversations).where(*where).values(assignee_id=None, updated_at=at)
            )
        return ids

    async def list_page(
        self,
        website_id: str,
        *,
        state: ConversationState | None,
        assignee: str | None,
        unassigned: bool,
        query: str | None,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[ConversationSummary]:
        return await conversation_list.list_page(
            self._db,
            website_id,
            state=state,
            assignee=assignee,
            unassigned=unassigned,
            query=query,
            limit=limit,
            after=after,
        )
