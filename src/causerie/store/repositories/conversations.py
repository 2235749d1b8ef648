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
    Session,
)
from causerie.store import codec, statements
from causerie.store.db import SqlRepository
from causerie.store.repositories import conversation_list
from causerie.store.repositories.sessions import (
    KEPT_TABLES,
    kept_conversation,
    kept_session,
)
from causerie.store.schema.chat import conversations, messages

_AGENTS_ONLY = (MessageType.NOTE.value, MessageType.EVENT.value)
"""Types of messages the visitor never sees: no read mark names one."""


class SqlConversations(SqlRepository):
    __slots__ = ()

    async def get(self, conversation_id: str) -> Conversation | None:
        return await self._db.fetch_one(statements.CONVERSATION_BY_ID, {"id": conversation_id})

    async def get_by_session(self, session_id: str) -> Conversation | None:
        return await self._db.fetch_one(statements.CONVERSATION_OF_SESSION, {"session": session_id})

    async def get_many(self, ids: list[str]) -> dict[str, Conversation]:
        if not ids:
            return {}
        rows = await self._db.execute(select(conversations).where(conversations.c.id.in_(ids)))
        return {row.id: codec.conversation(row) for row in rows}

    async def insert(self, conversation: Conversation) -> bool:
        """Inserted unless its session has one. Run without the transaction's held-back writes
        (`Prepared.apart`): a batch that starts a conversation takes the website's rows at
        its end, not here; the session's kept read gets the conversation, so that its touch
        is held back too."""
        db = self._db
        inserted = await db.write(
            statements.upserts(db.dialect).insert_conversation,
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
                "labels": list(conversation.labels),
            },
        )
        session_id = conversation.session_id
        kept: tuple[Session | None, Conversation | None] | None = db.kept(kept_session(session_id))
        if kept is not None:
            if not inserted or kept[0] is None or kept[1] is not None:
                db.forget_kept()  # another transaction's conversation: read it again
            else:
                db.keep(kept_session(session_id), (kept[0], conversation), KEPT_TABLES)
                db.keep(kept_conversation(conversation.id), session_id, KEPT_TABLES)
        return inserted > 0

    async def touch(
        self,
        conversation_id: str,
        at: datetime,
        *,
        reopen: bool,
        unread_for: Author | None,
        returning: bool = False,
    ) -> Conversation | None:
        if not reopen:
            held = await self._touch_later(conversation_id, at, unread_for)
            if held is not None:
                return held if returning else None
        unread = None if unread_for is None else statements.UNREAD_COLUMN[unread_for.value]
        touch = statements.TOUCH_CONVERSATION[reopen, unread, returning]
        params = {"t_id": conversation_id, "t_at": at}
        if returning:
            return await self._db.fetch_one(touch, params)
        await self._db.write(touch, params)
        return None

    async def _touch_later(
        self, conversation_id: str, at: datetime, unread_for: Author | None
    ) -> Conversation | None:
        """A conversation this transaction read with its session (`SqlSessions`: so its row is
        locked and the read is current) is touched at the commit, its batch's touches merged
        into one row (`Db.add_later`); the kept read is touched now, so that what this
        transaction reads of it, and returns here, is as the row will be. None (nothing held
        back) for any other."""
        session_id = self._db.kept(kept_conversation(conversation_id))
        if session_id is None:
            return None
        kept: tuple[Session | None, Conversation | None] = self._db.kept(kept_session(session_id))
        session, conversation = kept
        if conversation is None or conversation.id != conversation_id:
            return None
        visitor = int(unread_for is Author.VISITOR)
        operator = int(unread_for is Author.OPERATOR)
        touched = _touched(conversation, at, visitor, operator)
        await self._db.add_later(
            statements.TOUCH_LATER,
            (conversation_id,),
            {"t_id": conversation_id, "t_at": at, "t_visitor": visitor, "t_operator": operator},
            ("t_visitor", "t_operator"),
        )
        self._db.keep(kept_session(session_id), (session, touched), KEPT_TABLES)
        return touched

    async def mark_read(self, conversation_id: str, reader: Author, up_to: str) -> str | None:
        seq_of = select(messages.c.seq, messages.c.id).where(
            messages.c.conversation_id == conversation_id
        )
        target = await self._db.one(
            select(messages.c.seq, messages.c.id, messages.c.type).where(
                messages.c.conversation_id == conversation_id, messages.c.id == up_to
            )
        )
        if target is None:
            return None
        if target.type in _AGENTS_ONLY:
            # A note or an event line is no mark the visitor may be told: the last message both
            # sides see, at or before it (a conversation's unread counts stay the same).
            target = await self._db.one(
                seq_of.where(messages.c.seq <= target.seq, messages.c.type.not_in(_AGENTS_ONLY))
                .order_by(messages.c.seq.desc())
                .limit(1)
            )
            if target is None:
                return None
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
            return None
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
            .values({mark.name: target.id, unread: remaining})
        )
        return str(target.id)

    async def set_state(self, conversation_id: str, state: ConversationState, at: datetime) -> None:
        resolved = {"resolved_at": at} if state is ConversationState.RESOLVED else {}
        await self._db.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(state=state.value, updated_at=at, **resolved)
        )

    async def idle(self, website_id: str, before: datetime, limit: int) -> list[Conversation]:
        rows = await self._db.execute(
            select(conversations)
            .where(
                conversations.c.website_id == website_id,
                conversations.c.state == ConversationState.OPEN.value,
                conversations.c.last_message_at < before,
            )
            .order_by(conversations.c.last_message_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [codec.conversation(row) for row in rows]

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
        label: str | None = None,
        spam: bool = False,
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
            label=label,
            spam=spam,
        )

    async def set_labels(self, conversation_id: str, labels: tuple[str, ...], at: datetime) -> None:
        await self._db.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(labels=list(labels), updated_at=at)
        )

    async def with_label(self, website_id: str, label_id: str) -> list[Conversation]:
        rows = await self._db.execute(
            select(conversations).where(
                conversations.c.website_id == website_id,
                conversation_list.has_label(conversations, label_id),
            )
        )
        return [codec.conversation(row) for row in rows]


def _touched(conversation: Conversation, at: datetime, visitor: int, operator: int) -> Conversation:
    """`dataclasses.replace(conversation, updated_at=at, last_message_at=at, unread_by_...)`
    in a fifth of its time (each message of a batch takes one): a copy of the instance's
    fields, four of them changed. `Conversation` is a plain frozen dataclass (no slots, no
    `__post_init__`), so the copy is what `replace` would make (tests/test_store_rows.py)."""
    touched: Conversation = object.__new__(Conversation)
    fields = touched.__dict__
    fields.update(conversation.__dict__)
    fields["updated_at"] = fields["last_message_at"] = at
    fields["unread_by_visitor"] = conversation.unread_by_visitor + visitor
    fields["unread_by_operator"] = conversation.unread_by_operator + operator
    return touched
