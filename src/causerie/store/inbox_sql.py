"""Statements behind the inbox: the conversation list, conversation state and assignment, and
website changes. A mixin of `SqlTx` (store/tx.py), which provides `_execute` and `_one`.

The list is keyset-paginated on (last_message_at, id), newest first, and served by the
conversations indexes on (website_id, [state | assignee_id,] last_message_at): the first page
reads a few dozen index entries whatever the number of conversations (docs/performance.md).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, exists, func, literal, or_, select, update

from causerie.domain.models import (
    ConversationState,
    ConversationSummary,
    Website,
)
from causerie.store import statements
from causerie.store.rows import conversation_from, message_from
from causerie.store.schema import (
    conversations,
    events,
    messages,
    sessions,
    streams,
    websites,
)
from causerie.store.sql_mixin import SqlMixin

_LAST_MESSAGE_ID = (
    select(messages.c.id)
    .where(messages.c.conversation_id == conversations.c.id)
    .order_by(messages.c.seq.desc())
    .limit(1)
    .scalar_subquery()
    .label("last_message_id")
)


class InboxSql(SqlMixin):
    async def update_website(self, website: Website) -> None:
        await self._execute(
            update(websites)
            .where(websites.c.id == website.id)
            .values(name=website.name, origins=list(website.origins), settings=website.settings)
        )

    async def delete_website(self, website_id: str) -> int:
        row = await self._one(select(func.count()).where(conversations.c.website_id == website_id))
        stream = f"website:{website_id}"
        await self._execute(delete(events).where(events.c.stream == stream))
        await self._execute(delete(streams).where(streams.c.stream == stream))
        await self._execute(delete(websites).where(websites.c.id == website_id))
        return int(row[0]) if row else 0

    async def list_conversations(
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
        c = conversations
        stmt = (
            select(c, sessions.c.nickname, sessions.c.email, _LAST_MESSAGE_ID)
            .join(sessions, sessions.c.id == c.c.session_id)
            .where(c.c.website_id == website_id, c.c.last_message_at.is_not(None))
            .order_by(c.c.last_message_at.desc(), c.c.id.desc())
            .limit(limit)
        )
        if state is not None:
            stmt = stmt.where(c.c.state == state.value)
        if unassigned:
            stmt = stmt.where(c.c.assignee_id.is_(None))
        elif assignee is not None:
            stmt = stmt.where(c.c.assignee_id == assignee)
        if after is not None:
            at, last_id = after
            stmt = stmt.where(
                # Redundant with the next line, but an index range: PostgreSQL starts its scan at
                # the cursor instead of filtering every newer row (docs/performance.md).
                c.c.last_message_at <= at,
                or_(c.c.last_message_at < at, and_(c.c.last_message_at == at, c.c.id < last_id)),
            )
        if query:
            needle = query.lower()
            stmt = stmt.where(
                or_(
                    func.lower(sessions.c.nickname).contains(needle, autoescape=True),
                    func.lower(sessions.c.email).contains(needle, autoescape=True),
                    exists().where(
                        messages.c.conversation_id == c.c.id,
                        func.lower(messages.c.body).contains(needle, autoescape=True),
                    ),
                )
            )
        rows = (await self._execute(stmt)).all()
        ids = [row.last_message_id for row in rows if row.last_message_id is not None]
        last = {}
        if ids:
            found = await self._execute(statements.MESSAGE_SELECT.where(messages.c.id.in_(ids)))
            last = {row.id: message_from(row) for row in found}
        return [
            ConversationSummary(
                conversation=conversation_from(row),
                nickname=row.nickname,
                email=row.email,
                last_message=last.get(row.last_message_id),
            )
            for row in rows
        ]

    async def set_conversation_state(
        self, conversation_id: str, state: ConversationState, at: datetime
    ) -> None:
        await self._execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(state=state.value, updated_at=at)
        )

    async def set_assignee(
        self, conversation_id: str, operator_id: str | None, at: datetime
    ) -> None:
        await self._execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(assignee_id=operator_id, updated_at=at)
        )

    async def unassign_all(self, website_id: str, operator_id: str, at: datetime) -> list[str]:
        where = (
            conversations.c.website_id == website_id,
            conversations.c.assignee_id == operator_id,
        )
        ids = [row.id for row in await self._execute(select(conversations.c.id).where(*where))]
        if ids:
            await self._execute(
                update(conversations).where(*where).values(assignee_id=None, updated_at=at)
            )
        return ids

    async def daily_counts(self, website_id: str, since: datetime) -> list[tuple[str, str, int]]:
        """(day, what, count) since `since`: conversations started, and messages by author.

        Aggregates only: no id, no text, no address leaves the database (P3).
        """
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
        rows = list(await self._execute(started)) + list(await self._execute(written))
        return [(str(row.day), str(row.what), int(row.n)) for row in rows]
