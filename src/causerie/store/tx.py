"""`SqlTx`: the domain's `Tx` port in SQLAlchemy Core, the same statements on both databases."""

from __future__ import annotations

import json
from collections import namedtuple
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    JSON,
    ColumnElement,
    Executable,
    FromClause,
    Result,
    Row,
    Select,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from causerie.domain.events import EventType, NewEvent, StoredEvent
from causerie.domain.models import (
    AuditEntry,
    Author,
    Conversation,
    ConversationState,
    Message,
    MessageType,
    Operator,
    PageView,
    Role,
    Session,
    SessionState,
    Website,
)
from causerie.domain.retention import Rule
from causerie.store import sqlite_hot, statements
from causerie.store.accounts_sql import AccountsSql
from causerie.store.inbox_sql import InboxSql
from causerie.store.privacy_sql import PrivacySql
from causerie.store.repositories.jobs import SqlJobs
from causerie.store.rows import (
    conversation_from,
    message_from,
    operator_from,
    session_from,
    website_from,
)
from causerie.store.schema import (
    account_links,
    audit_log,
    conversations,
    events,
    logins,
    memberships,
    messages,
    operators,
    purge_runs,
    sessions,
    websites,
)
from causerie.store.types import UTCDateTime

# Parameters: a dict, or a list of dicts to run the statement once per dict (executemany).
Params = dict[str, Any] | list[dict[str, Any]] | None
Execute = Callable[[Executable, Params], Awaitable[Result[Any]]]


# `row`: a SQLAlchemy Row, or a namedtuple of the same columns (the raw SQLite reads).


class _RuleTables(NamedTuple):
    """The tables the retention rules read (`SqlTx._expired_ids`), or aliases of them."""

    logins: FromClause
    links: FromClause
    audit: FromClause
    conversations: FromClause
    sessions: FromClause


_RULE_TABLES = _RuleTables(logins, account_links, audit_log, conversations, sessions)
# The same, to check a rule again on rows of the table a purge removes them from.
_STILL = _RuleTables(
    *(
        t.alias(f"still_{t.name}")
        for t in (logins, account_links, audit_log, conversations, sessions)
    )
)


def _sqlite_datetime(value: str | None) -> datetime | None:
    # As SQLAlchemy stores them on SQLite: "YYYY-MM-DD HH:MM:SS.ffffff", in UTC (types.py).
    return None if value is None else datetime.fromisoformat(value + "+00:00")


def _sqlite_json(value: str | None) -> Any:
    if value == "{}":  # most sessions' `data`: a new dict, without the decoder's machinery
        return {}
    return None if value is None else json.loads(value)


def _sqlite_decoder(column: Any) -> Callable[[Any], Any] | None:
    """What SQLAlchemy's result processing does to a raw SQLite value of `column`'s type."""
    if isinstance(column.type, UTCDateTime):
        return _sqlite_datetime
    if isinstance(column.type, JSON):
        return _sqlite_json
    return None


_WEBSITE_COLUMNS = list(websites.c)
_WebsiteRow = namedtuple("_WebsiteRow", [c.name for c in _WEBSITE_COLUMNS])  # type: ignore[misc]
_SessionRow = namedtuple("_SessionRow", [c.name for c in statements.SESSION_COLUMNS])  # type: ignore[misc]
_W = len(_WEBSITE_COLUMNS)
_SQLITE_WEBSITE_DECODERS = [
    (i, decode)
    for i, column in enumerate(_WEBSITE_COLUMNS)
    if (decode := _sqlite_decoder(column)) is not None
]


def _website_and_session(values: Any) -> tuple[Website, Session | None]:
    """A row of `WEBSITE_WITH_SESSION`: website columns, then the session's (NULL if none)."""
    website = website_from(_WebsiteRow(*values[:_W]))
    if values[_W] is None:
        return website, None
    return website, session_from(_SessionRow(*values[_W:]))


# Websites as last read raw from SQLite, by their raw columns: the same row makes the same
# (frozen, never mutated) Website, so each load does not decode its JSON and date again. A change
# to any column is a different key; the dict is emptied when it grows past a bound.
_SQLITE_WEBSITES: dict[tuple[Any, ...], Website] = {}
_SQLITE_WEBSITES_MAX = 1024


def sqlite_website_and_session(
    connection: sqlite_hot.Raw, website_id: str, token_hash: str | None
) -> tuple[Website | None, Session | None]:
    """`SqlTx.get_website_and_session` on SQLite, on the driver's connection."""
    raw = connection.execute(
        statements.WEBSITE_WITH_SESSION_SQLITE, {"website": website_id, "token": token_hash}
    ).fetchone()
    return (None, None) if raw is None else _sqlite_website_and_session(raw)


def _sqlite_website_and_session(raw: tuple[Any, ...]) -> tuple[Website, Session | None]:
    key = raw[:_W]
    website = _SQLITE_WEBSITES.get(key)
    if website is None:
        if len(_SQLITE_WEBSITES) >= _SQLITE_WEBSITES_MAX:
            _SQLITE_WEBSITES.clear()
        website = _SQLITE_WEBSITES[key] = _sqlite_website(key)
    if raw[_W] is None:
        return website, None
    return website, _sqlite_session(raw)


def _sqlite_website(values: tuple[Any, ...]) -> Website:
    """A website from its raw SQLite columns, decoded as SQLAlchemy would."""
    out = list(values)
    for i, decode in _SQLITE_WEBSITE_DECODERS:
        out[i] = decode(out[i])
    return website_from(_WebsiteRow(*out))


# The session part of a raw `WEBSITE_WITH_SESSION_SQLITE` row, decoded as `sqlite_hot` does.
assert [c.name for c in statements.SESSION_COLUMNS] == list(sqlite_hot.SESSION_NAMES)
_sqlite_session = sqlite_hot.session_reader(_W)


class SqlTx(AccountsSql, InboxSql, PrivacySql):
    """One transaction; `execute` runs a statement on its connection (sync or async driver).

    On SQLite, `raw` is the driver's connection under the same transaction: the message path's
    statements (`sqlite_hot`) and the chatbox load's read (`statements.WEBSITE_WITH_SESSION_SQLITE`)
    run on it directly, everything else through SQLAlchemy.
    """

    def __init__(self, execute: Execute, dialect: str, raw: sqlite_hot.Raw | None = None) -> None:
        self._run = execute
        self._dialect = dialect
        self._raw = raw
        self._prepared = statements.BY_DIALECT[dialect]
        self._on_commit: list[Callable[[], None]] = []
        self.jobs = SqlJobs(self._execute, dialect)

    async def _execute(self, stmt: Executable, params: dict[str, Any] | None = None) -> Result[Any]:
        return await self._run(stmt, params)

    def on_commit(self, callback: Callable[[], None]) -> None:
        self._on_commit.append(callback)

    def committed(self) -> None:
        callbacks, self._on_commit = self._on_commit, []
        for callback in callbacks:
            callback()

    async def _one(self, stmt: Executable, params: dict[str, Any] | None = None) -> Row[Any] | None:
        return (await self._execute(stmt, params)).first()

    # websites, operators, memberships, tokens

    async def insert_website(self, website: Website) -> None:
        await self._execute(
            websites.insert().values(
                id=website.id,
                name=website.name,
                origins=list(website.origins),
                settings=website.settings,
                created_at=website.created_at,
            )
        )

    async def get_website(self, website_id: str) -> Website | None:
        row = await self._one(statements.WEBSITE_BY_ID, {"id": website_id})
        return website_from(row) if row else None

    async def list_websites(self) -> list[Website]:
        result = await self._execute(select(websites).order_by(websites.c.created_at))
        return [website_from(row) for row in result]

    async def insert_operator(self, operator: Operator, password_hash: str | None) -> None:
        await self._execute(
            operators.insert().values(
                id=operator.id,
                email=operator.email,
                name=operator.name,
                password_hash=password_hash,
                password_is_temporary=password_hash is not None,
                created_at=operator.created_at,
            )
        )

    async def count_operators(self) -> int:
        row = await self._one(select(func.count()).select_from(operators))
        return int(row[0]) if row else 0

    async def get_operator(self, operator_id: str) -> Operator | None:
        row = await self._one(select(operators).where(operators.c.id == operator_id))
        return operator_from(row) if row else None

    async def get_operator_by_email(self, email: str) -> Operator | None:
        row = await self._one(select(operators).where(operators.c.email == email))
        return operator_from(row) if row else None

    async def set_membership(
        self, website_id: str, operator_id: str, role: Role, at: datetime
    ) -> None:
        changed = await self._execute(
            update(memberships)
            .where(
                memberships.c.website_id == website_id,
                memberships.c.operator_id == operator_id,
            )
            .values(role=role.value)
        )
        if changed.rowcount == 0:  # type: ignore[attr-defined]
            await self._execute(
                memberships.insert().values(
                    website_id=website_id, operator_id=operator_id, role=role.value, created_at=at
                )
            )

    async def get_role(self, operator_id: str, website_id: str) -> Role | None:
        row = await self._one(
            select(memberships.c.role).where(
                memberships.c.operator_id == operator_id,
                memberships.c.website_id == website_id,
            )
        )
        return Role(row.role) if row else None

    # sessions

    async def get_website_and_session(
        self, website_id: str, token_hash: str | None
    ) -> tuple[Website | None, Session | None]:
        if self._raw is not None:
            return sqlite_website_and_session(self._raw, website_id, token_hash)
        params = {"website": website_id, "token": token_hash}
        row = await self._one(statements.WEBSITE_WITH_SESSION, params)
        return (None, None) if row is None else _website_and_session(row)

    async def get_session_by_token(
        self, token_hash: str, website_id: str | None = None
    ) -> Session | None:
        if website_id is None:
            row = await self._one(statements.SESSION_BY_TOKEN, {"token": token_hash})
        else:
            row = await self._one(
                statements.SESSION_BY_TOKEN_ON_WEBSITE, {"token": token_hash, "website": website_id}
            )
        return session_from(row) if row else None

    async def get_session(self, session_id: str) -> Session | None:
        row = await self._one(statements.SESSION_BY_ID, {"id": session_id})
        return session_from(row) if row else None

    async def insert_session(self, session: Session, token_hash: str) -> None:
        await self._execute(
            statements.INSERT_SESSION,
            {
                "id": session.id,
                "website_id": session.website_id,
                "token_hash": token_hash,
                "state": session.state.value,
                "created_at": session.created_at,
                "last_access_at": session.last_access_at,
                "permanent_since": session.permanent_since,
                "ip": session.ip,
                "ip_seen_at": session.ip_seen_at,
                "user_agent": session.user_agent,
                "locale": session.locale,
                "timezone": session.timezone,
                "page_url": session.page_url,
                "page_title": session.page_title,
                "page_referrer": session.page_referrer,
                "nickname": session.nickname,
                "email": session.email,
                "phone": session.phone,
                "data": session.data,
            },
        )

    async def record_visit(
        self,
        session_id: str,
        *,
        last_access_at: datetime,
        ip: str | None,
        page: PageView | None,
    ) -> None:
        params: dict[str, Any] = {"v_session": session_id, "v_at": last_access_at, "v_ip": ip}
        if page is not None:
            params.update(
                v_url=page.url,
                v_title=page.title,
                v_referrer=page.referrer,
                v_user_agent=page.user_agent,
                v_locale=page.locale,
                v_timezone=page.timezone,
            )
        await self._execute(statements.RECORD_VISIT[ip is not None, page is not None], params)

    async def make_permanent(self, session_id: str, at: datetime) -> None:
        if self._raw is not None:
            self._raw.execute(sqlite_hot.MAKE_PERMANENT, (sqlite_hot.db_time(at), session_id))
            return
        await self._execute(statements.MAKE_PERMANENT, {"p_session": session_id, "p_at": at})

    async def update_profile(
        self,
        session_id: str,
        *,
        nickname: str | None,
        email: str | None,
        phone: str | None,
        data: dict[str, Any],
    ) -> None:
        await self._execute(
            update(sessions)
            .where(sessions.c.id == session_id)
            .values(nickname=nickname, email=email, phone=phone, data=data)
        )

    async def delete_session(self, session_id: str) -> bool:
        result = await self._execute(delete(sessions).where(sessions.c.id == session_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # conversations and messages

    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        row = await self._one(statements.CONVERSATION_BY_ID, {"id": conversation_id})
        return conversation_from(row) if row else None

    async def get_conversation_of_session(self, session_id: str) -> Conversation | None:
        row = await self._one(statements.CONVERSATION_OF_SESSION, {"session": session_id})
        return conversation_from(row) if row else None

    async def get_session_and_conversation(
        self, session_id: str
    ) -> tuple[Session | None, Conversation | None]:
        if self._raw is not None:
            return sqlite_hot.session_and_conversation(self._raw, session_id)
        session = await self.get_session(session_id)
        if session is None:
            return None, None
        return session, await self.get_conversation_of_session(session_id)

    def _insert(self, table: Any) -> Any:
        return (postgresql.insert if self._dialect == "postgresql" else sqlite.insert)(table)

    async def insert_conversation(self, conversation: Conversation) -> bool:
        if self._raw is not None:
            db_time = sqlite_hot.db_time
            cursor = self._raw.execute(
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
        result = await self._execute(
            self._prepared["insert_conversation"],
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

    async def touch_conversation(
        self,
        conversation_id: str,
        at: datetime,
        *,
        reopen: bool,
        unread_for: Author | None,
        returning: bool = False,
    ) -> Conversation | None:
        unread = None if unread_for is None else statements.UNREAD_COLUMN[unread_for.value]
        if self._raw is not None:
            when = sqlite_hot.db_time(at)
            cursor = self._raw.execute(
                sqlite_hot.TOUCH_CONVERSATION[reopen, unread, returning],
                (when, when, conversation_id),
            )
            if not returning:
                return None
            row = cursor.fetchone()
            cursor.fetchall()  # the statement ends only once every row was read
            return sqlite_hot.conversation_from(row) if row else None
        result = await self._execute(
            statements.TOUCH_CONVERSATION[reopen, unread, returning],
            {"t_id": conversation_id, "t_at": at},
        )
        if not returning:
            return None
        found = result.first()
        return conversation_from(found) if found else None

    async def insert_message(self, message: Message) -> bool:
        if self._raw is not None:
            cursor = self._raw.execute(
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
        result = await self._execute(
            self._prepared["insert_message"],
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

    async def count_messages(self, conversation_id: str) -> int:
        row = await self._one(
            select(func.count()).where(messages.c.conversation_id == conversation_id)
        )
        return int(row[0]) if row else 0

    async def get_message_by_client_id(
        self, conversation_id: str, client_id: str
    ) -> Message | None:
        row = await self._one(
            statements.MESSAGE_BY_CLIENT_ID,
            {"conversation": conversation_id, "client_id": client_id},
        )
        return message_from(row) if row else None

    async def get_message(self, conversation_id: str, message_id: str) -> Message | None:
        row = await self._one(
            statements.MESSAGE_BY_ID, {"conversation": conversation_id, "id": message_id}
        )
        return message_from(row) if row else None

    async def list_messages(
        self,
        conversation_id: str,
        *,
        limit: int,
        before: str | None = None,
        include_notes: bool,
    ) -> list[Message]:
        """The `limit` messages before `before` (or the latest), oldest first."""
        params: dict[str, Any] = {"conversation": conversation_id, "limit": limit}
        if before is not None:
            params["before"] = before
        rows = await self._execute(
            statements.LATEST_MESSAGES[include_notes, before is not None], params
        )
        return [message_from(row) for row in reversed(rows.all())]

    async def mark_read(self, conversation_id: str, reader: Author, up_to: str) -> bool:
        """Move the reader's read mark forward to `up_to`; False if it was already there or past.

        The reader's unread count becomes the number of the other side's visible messages after
        the mark.
        """
        seq_of = select(messages.c.seq, messages.c.id).where(
            messages.c.conversation_id == conversation_id
        )
        target = await self._one(seq_of.where(messages.c.id == up_to))
        if target is None:
            return False
        mark, unread = (
            (conversations.c.visitor_read_up_to, "unread_by_visitor")
            if reader is Author.VISITOR
            else (conversations.c.operator_read_up_to, "unread_by_operator")
        )
        current = await self._one(
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
        await self._execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values({mark.name: up_to, unread: remaining})
        )
        return True

    # the event log

    async def append_events(self, new: list[NewEvent]) -> list[int]:
        """Give each event its stream's next seq, in order: one statement moves every stream
        forward (its row lock orders concurrent writers), one more inserts every row."""
        steps: dict[str, int] = {}
        owners: dict[str, str | None] = {}
        for event in new:
            steps[event.stream] = steps.get(event.stream, 0) + 1
            owners.setdefault(event.stream, event.owner)
        last = await self._bump_streams(steps, owners)
        # Each stream's events take the seqs up to its new last one, in the order given.
        next_seq = {stream: last[stream] - step + 1 for stream, step in steps.items()}
        seqs = []
        for event in new:
            seqs.append(next_seq[event.stream])
            next_seq[event.stream] += 1
        if self._raw is not None:
            db_time, db_json = sqlite_hot.db_time, sqlite_hot.db_json
            self._raw.executemany(
                sqlite_hot.INSERT_EVENT,
                [
                    (
                        e.stream,
                        seq,
                        e.type.value,
                        e.object_id,
                        e.session_id,
                        db_json(e.data),
                        db_time(e.created_at),
                    )
                    for e, seq in zip(new, seqs, strict=True)
                ],
            )
        else:
            await self._run(
                statements.INSERT_EVENT,
                [
                    {
                        "stream": e.stream,
                        "seq": seq,
                        "type": e.type.value,
                        "object_id": e.object_id,
                        "session_id": e.session_id,
                        "data": e.data,
                        "created_at": e.created_at,
                    }
                    for e, seq in zip(new, seqs, strict=True)
                ],
            )
        return seqs

    async def _bump_streams(
        self, steps: dict[str, int], owners: dict[str, str | None]
    ) -> dict[str, int]:
        if self._raw is not None:
            params: list[Any] = []
            for stream, step in steps.items():
                params += (stream, step, owners[stream])
            rows = self._raw.execute(sqlite_hot.bump_streams(len(steps)), params).fetchall()
            return {stream: int(last) for stream, last in rows}
        last = {}
        # Streams in a fixed order, so that two transactions never wait on each other's rows.
        for stream in sorted(steps):
            bumped = await self._execute(
                self._prepared["bump_stream"],
                {
                    "b_stream": stream,
                    "b_session": owners[stream],
                    "b_step": steps[stream],
                    "b_more": steps[stream],
                },
            )
            last[stream] = int(bumped.scalar_one())
        return last

    async def list_events(self, stream: str, after: int, limit: int) -> list[StoredEvent]:
        rows = await self._execute(
            select(events)
            .where(events.c.stream == stream, events.c.seq > after)
            .order_by(events.c.seq)
            .limit(limit)
        )
        return [
            StoredEvent(
                stream=row.stream,
                seq=row.seq,
                type=EventType(row.type),
                object_id=row.object_id,
                session_id=row.session_id,
                created_at=row.created_at,
                data=dict(row.data),
            )
            for row in rows
        ]

    async def last_seq(self, stream: str) -> int:
        row = await self._one(statements.LAST_SEQ, {"stream": stream})
        return int(row.last_seq) if row else 0

    async def get_messages_by_id(self, ids: list[str]) -> dict[str, Message]:
        if not ids:
            return {}
        rows = await self._execute(statements.MESSAGE_SELECT.where(messages.c.id.in_(ids)))
        return {row.id: message_from(row) for row in rows}

    async def get_conversations_by_id(self, ids: list[str]) -> dict[str, Conversation]:
        if not ids:
            return {}
        rows = await self._execute(select(conversations).where(conversations.c.id.in_(ids)))
        return {row.id: conversation_from(row) for row in rows}

    async def get_sessions_by_id(self, ids: list[str]) -> dict[str, Session]:
        if not ids:
            return {}
        rows = await self._execute(
            select(*statements.SESSION_COLUMNS).where(sessions.c.id.in_(ids))
        )
        return {row.id: session_from(row) for row in rows}

    # retention, statistics, audit

    def _expired_ids(
        self,
        rule: Rule,
        cutoff: datetime,
        website_id: str | None,
        newer_than: datetime | None = None,
        t: _RuleTables = _RULE_TABLES,
    ) -> tuple[Select[Any], ColumnElement[Any]]:
        """Ids of what `rule` expires at `cutoff` (the statement, and its id column); with
        `newer_than`, only rows past it (a website's stricter rule counts what the server's own
        cut-off does not already take)."""
        if rule is Rule.EXPIRED_LOGINS:
            return select(t.logins.c.id).where(t.logins.c.expires_at <= cutoff), t.logins.c.id
        if rule is Rule.EXPIRED_LINKS:
            return select(t.links.c.id).where(t.links.c.expires_at <= cutoff), t.links.c.id
        if rule is Rule.AUDIT_ENTRIES:
            return select(t.audit.c.id).where(t.audit.c.at <= cutoff), t.audit.c.id
        if rule is Rule.RESOLVED_CONVERSATIONS:
            c = t.conversations
            stmt = select(c.c.session_id.label("id")).where(
                c.c.state == ConversationState.RESOLVED.value, c.c.updated_at <= cutoff
            )
            if website_id is not None:
                stmt = stmt.where(c.c.website_id == website_id)
            if newer_than is not None:
                stmt = stmt.where(c.c.updated_at > newer_than)
            return stmt, c.c.session_id
        s = t.sessions
        if rule is Rule.TEMPORARY_SESSIONS:
            stmt = select(s.c.id).where(
                s.c.state == SessionState.TEMPORARY.value, s.c.last_access_at <= cutoff
            )
        else:
            stmt = select(s.c.id).where(s.c.ip_seen_at <= cutoff)
            if newer_than is not None:
                stmt = stmt.where(s.c.ip_seen_at > newer_than)
        if website_id is not None:
            stmt = stmt.where(s.c.website_id == website_id)
        return stmt, s.c.id

    async def count_expired(
        self,
        rule: Rule,
        cutoff: datetime,
        website_id: str | None = None,
        newer_than: datetime | None = None,
    ) -> int:
        ids, _ = self._expired_ids(rule, cutoff, website_id, newer_than)
        row = await self._one(select(func.count()).select_from(ids.subquery()))
        return int(row[0]) if row else 0

    async def list_expired(
        self,
        rule: Rule,
        cutoff: datetime,
        limit: int,
        website_id: str | None = None,
        newer_than: datetime | None = None,
    ) -> list[str]:
        expired, _ = self._expired_ids(rule, cutoff, website_id, newer_than)
        return [str(row[0]) for row in await self._execute(expired.limit(limit))]

    async def purge_expired(
        self,
        rule: Rule,
        cutoff: datetime,
        ids: list[str],
        website_id: str | None = None,
        newer_than: datetime | None = None,
    ) -> int:
        # The rule's condition again, on each listed row (an alias of its table, correlated by
        # id): a row listed by a read may have changed since (a temporary session visited
        # again, a conversation reopened). Written so, the rows are found by primary key; the
        # rule's own index would make SQLite walk every expired row for each batch.
        expired, key = self._expired_ids(rule, cutoff, website_id, newer_than, _STILL)
        target = {
            Rule.EXPIRED_LOGINS: logins,
            Rule.EXPIRED_LINKS: account_links,
            Rule.AUDIT_ENTRIES: audit_log,
        }.get(rule, sessions)
        where = (target.c.id.in_(ids), expired.where(key == target.c.id).exists())
        stmt: Executable
        if rule is Rule.CHAT_IPS:
            stmt = update(sessions).where(*where).values(ip=None, ip_seen_at=None)
        else:
            stmt = delete(target).where(*where)
        result = await self._execute(stmt)
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def count_network(self, network: str, day: date, *, sessions: int, messages: int) -> None:
        if self._raw is not None:
            self._raw.execute(
                sqlite_hot.COUNT_NETWORK, (network, sqlite_hot.db_date(day), sessions, messages)
            )
            return
        await self._execute(
            self._prepared["count_network"],
            {
                "n_network": network,
                "n_day": day,
                "n_sessions": sessions,
                "n_messages": messages,
                "n_more_sessions": sessions,
                "n_more_messages": messages,
            },
        )

    async def insert_audit(self, entry: AuditEntry) -> None:
        await self._execute(
            audit_log.insert().values(
                id=entry.id,
                at=entry.at,
                actor_type=entry.actor_type,
                actor_id=entry.actor_id,
                action=entry.action,
                website_id=entry.website_id,
                target_type=entry.target_type,
                target_id=entry.target_id,
                details=entry.details,
            )
        )

    async def record_purge_run(self, at: datetime, dry_run: bool, counts: dict[str, int]) -> None:
        await self._execute(purge_runs.insert().values(at=at, dry_run=dry_run, counts=counts))
