"""Statements of the hot paths, built once.

Building a SQLAlchemy statement costs five times more than executing a built one, so the queries
run on every chatbox load, message and event are constructed here at import, with bind
parameters, each with the codec that reads its rows (store/codec.py); each database compiles
them once (store/db.py). Upserts differ by dialect: one of each, built at its first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import BigInteger, and_, bindparam, func, select, update

from causerie.domain.models import (
    Conversation,
    ConversationState,
    MessageType,
    Session,
    SessionState,
    Website,
)
from causerie.store import codec
from causerie.store.codec import SESSION_COLUMNS, Codec
from causerie.store.db import Prepared, Query, dialect_insert
from causerie.store.schema.accounts import operators, websites
from causerie.store.schema.chat import conversations, events, files, messages, sessions, streams
from causerie.store.schema.shield import network_stats

WEBSITE_BY_ID = Query(select(websites).where(websites.c.id == bindparam("id")), codec.website)

_SESSIONS = select(*SESSION_COLUMNS)
SESSION_BY_TOKEN = Query(
    _SESSIONS.where(sessions.c.token_hash == bindparam("token")), codec.session
)
SESSION_BY_TOKEN_ON_WEBSITE = Query(
    SESSION_BY_TOKEN.stmt.where(sessions.c.website_id == bindparam("website")), codec.session
)
SESSION_BY_ID = Query(_SESSIONS.where(sessions.c.id == bindparam("id")), codec.session)
INSERT_SESSION = Prepared(
    sessions.insert().values(
        {
            c.name: bindparam(c.name)
            for c in sessions.c
            if c.name not in ("consent_version", "consent_at")
        }
    )
)

WEBSITE_COLUMNS = _W = len(websites.c)
_session_after_website = Codec(Session, SESSION_COLUMNS, start=_W)


def _website_and_session(row: Sequence[Any]) -> tuple[Website, Session | None]:
    return codec.website(row), None if row[_W] is None else _session_after_website(row)


# A chatbox load's one read: the website, and the session of the token on it if there is one.
# On SQLite its row is decoded in two parts, as `WEBSITE_BY_ID`'s and `SESSION_BY_TOKEN`'s rows
# (the same columns in the same order: repositories/websites.py).
WEBSITE_WITH_SESSION = Query(
    select(*websites.c, *(c.label(f"s_{c.name}") for c in SESSION_COLUMNS))
    .select_from(
        websites.outerjoin(
            sessions,
            and_(
                sessions.c.website_id == websites.c.id,
                sessions.c.token_hash == bindparam("token"),
            ),
        )
    )
    .where(websites.c.id == bindparam("website")),
    _website_and_session,
)

_S = len(SESSION_COLUMNS)
_conversation_after_session = Codec(Conversation, list(conversations.c), start=_S)


def _session_and_conversation(row: Sequence[Any]) -> tuple[Session, Conversation | None]:
    return codec.session(row), None if row[_S] is None else _conversation_after_session(row)


# Sessions read at once in a batch are padded to the next of these counts (the last id
# repeated), so that a few statements serve every batch size.
SESSION_READ_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256)


@cache
def sessions_with_conversations(count: int) -> Query[tuple[Session, Conversation | None]]:
    """A message's first read, for `count` sessions at once (parameters `id0`...): each with
    its conversation if it has one, that row locked until the transaction ends (PostgreSQL;
    SQLite has one writer), in the order of its id so that two batches never wait on each
    other. A locking clause cannot take the nullable side of an outer join: the conversations
    are locked in a subquery of their own."""
    ids: list[Any] = [bindparam(f"id{i}") for i in range(count)]
    locked = (
        select(conversations)
        .where(conversations.c.session_id.in_(ids))
        .order_by(conversations.c.id)
        .with_for_update()
        .subquery("c")
    )
    return Query(
        select(*SESSION_COLUMNS, *(c.label(f"c_{c.name}") for c in locked.c))
        .select_from(sessions.outerjoin(locked, locked.c.session_id == sessions.c.id))
        .where(sessions.c.id.in_(ids)),
        _session_and_conversation,
    )


def _visit(ip: bool, page: bool) -> Prepared:
    values: dict[str, Any] = {"last_access_at": bindparam("v_at")}
    if ip:
        values.update(ip=bindparam("v_ip"), ip_seen_at=bindparam("v_at"))
    if page:
        values.update(
            page_url=bindparam("v_url"),
            page_title=bindparam("v_title"),
            page_referrer=bindparam("v_referrer"),
            user_agent=bindparam("v_user_agent"),
            # A load that does not say its locale or time zone keeps the known one.
            locale=func.coalesce(
                bindparam("v_locale", type_=sessions.c.locale.type), sessions.c.locale
            ),
            timezone=func.coalesce(
                bindparam("v_timezone", type_=sessions.c.timezone.type), sessions.c.timezone
            ),
        )
    return Prepared(update(sessions).where(sessions.c.id == bindparam("v_session")).values(values))


RECORD_VISIT = {(ip, page): _visit(ip, page) for ip in (False, True) for page in (False, True)}

# Apart (`Prepared.apart`): no write held back is about sessions, and `SqlSessions` keeps the
# session's kept read current.
MAKE_PERMANENT = Prepared(
    update(sessions)
    .where(
        sessions.c.id == bindparam("p_session"),
        sessions.c.state == SessionState.TEMPORARY.value,
    )
    .values(state=SessionState.PERMANENT.value, permanent_since=bindparam("p_at")),
    apart=True,
)

CONVERSATION_BY_ID = Query(
    select(conversations).where(conversations.c.id == bindparam("id")), codec.conversation
)
CONVERSATION_OF_SESSION = Query(
    select(conversations).where(conversations.c.session_id == bindparam("session")),
    codec.conversation,
)

UNREAD_COLUMN = {"visitor": "unread_by_visitor", "operator": "unread_by_operator"}


def _touch(reopen: bool, unread: str | None, returning: bool) -> Query[Conversation]:
    values: dict[str, Any] = {
        "updated_at": bindparam("t_at"),
        "last_message_at": bindparam("t_at"),
    }
    if reopen:
        values["state"] = ConversationState.OPEN.value
    if unread is not None:
        values[unread] = conversations.c[unread] + 1
    stmt = update(conversations).where(conversations.c.id == bindparam("t_id")).values(values)
    return Query(stmt.returning(*conversations.c) if returning else stmt, codec.conversation)


TOUCH_CONVERSATION = {
    (reopen, unread, returning): _touch(reopen, unread, returning)
    for reopen in (False, True)
    for unread in (None, *UNREAD_COLUMN.values())
    for returning in (False, True)
}

# A touch held back to the commit (`Db.add_later`), merged by conversation: its unread counts
# grow by the sum of the batch's (`t_visitor`, `t_operator`), its times are the last message's.
TOUCH_LATER = Prepared(
    update(conversations)
    .where(conversations.c.id == bindparam("t_id"))
    .values(
        updated_at=bindparam("t_at"),
        last_message_at=bindparam("t_at"),
        unread_by_visitor=conversations.c.unread_by_visitor + bindparam("t_visitor"),
        unread_by_operator=conversations.c.unread_by_operator + bindparam("t_operator"),
    )
)

MESSAGE_SELECT = select(
    *messages.c,
    operators.c.name.label("operator_name"),
    *(column.label(f"file_{column.name}") for column in codec.MESSAGE_FILE_COLUMNS),
).select_from(
    messages.outerjoin(operators, messages.c.operator_id == operators.c.id).outerjoin(
        files, files.c.message_id == messages.c.id
    )
)
MESSAGE_BY_ID = Query(
    MESSAGE_SELECT.where(
        messages.c.conversation_id == bindparam("conversation"), messages.c.id == bindparam("id")
    ),
    codec.message,
)
MESSAGE_BY_CLIENT_ID = Query(
    MESSAGE_SELECT.where(
        messages.c.conversation_id == bindparam("conversation"),
        messages.c.client_id == bindparam("client_id"),
    ),
    codec.message,
)


def _latest(include_notes: bool, before: bool) -> Any:
    stmt = MESSAGE_SELECT.where(messages.c.conversation_id == bindparam("conversation"))
    if not include_notes:
        # Notes and event lines (transfers, automatic resolutions) are the agents' only.
        stmt = stmt.where(
            messages.c.type != MessageType.NOTE.value,
            messages.c.type != MessageType.EVENT.value,
        )
    if before:
        pivot = (
            select(messages.c.seq)
            .where(
                messages.c.id == bindparam("before"),
                messages.c.conversation_id == bindparam("conversation"),
            )
            .scalar_subquery()
        )
        stmt = stmt.where(messages.c.seq < pivot)
    return Query(stmt.order_by(messages.c.seq.desc()).limit(bindparam("limit")), codec.message)


LATEST_MESSAGES = {(n, b): _latest(n, b) for n in (False, True) for b in (False, True)}

LAST_SEQ = Query(
    select(streams.c.last_seq).where(streams.c.stream == bindparam("stream")),
    lambda row: int(row[0]),
)
INSERT_EVENT = Prepared(events.insert().values({c.name: bindparam(c.name) for c in events.c}))
# A message's row held back to the batch's flush (store/repositories/messages.py): no ON CONFLICT,
# so that a `client_id` stored in between fails the flush, and the batch runs again.
INSERT_MESSAGE_LATER = Prepared(
    messages.insert().values({c.name: bindparam(c.name) for c in messages.c if c.name != "seq"})
)


def _bump_streams(insert: Any, count: int) -> Query[tuple[str, int]]:
    """Move `count` streams forward by their steps at once; each row says its stream's new last
    seq. Parameters: `stream{i}`, `step{i}`, `session{i}` for each stream."""
    rows = [
        {
            "stream": bindparam(f"stream{i}"),
            "last_seq": bindparam(f"step{i}", type_=BigInteger),
            "session_id": bindparam(f"session{i}", type_=streams.c.session_id.type),
        }
        for i in range(count)
    ]
    stmt = insert(streams).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["stream"],
        set_={"last_seq": streams.c.last_seq + stmt.excluded.last_seq},
    ).returning(streams.c.stream, streams.c.last_seq)
    return Query(stmt, lambda row: (str(row[0]), int(row[1])))


def _insert_values(table: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {c.name: bindparam(c.name) for c in table.c if c.name not in skip}


class _Upserts:
    """The statements whose ON CONFLICT clause is written in each dialect's own construct."""

    def __init__(self, insert: Any) -> None:
        self._insert = insert
        self.count_network = Prepared(
            insert(network_stats)
            .values(
                network=bindparam("n_network"),
                day=bindparam("n_day"),
                sessions=bindparam("n_sessions"),
                messages=bindparam("n_messages"),
            )
            .on_conflict_do_update(
                index_elements=["network", "day"],
                set_={
                    "sessions": network_stats.c.sessions + bindparam("n_more_sessions"),
                    "messages": network_stats.c.messages + bindparam("n_more_messages"),
                },
            )
        )
        self.insert_message = Prepared(
            insert(messages).values(_insert_values(messages, ("seq",))).on_conflict_do_nothing()
        )
        # Apart (`Prepared.apart`): the only held-back writes of conversations touch rows
        # that existed before (`TOUCH_LATER`), and the only kept read it changes is its
        # session's, which `SqlConversations.insert` keeps current.
        self.insert_conversation = Prepared(
            insert(conversations)
            .values(
                _insert_values(
                    conversations,
                    ("visitor_read_up_to", "operator_read_up_to", "team_id", "resolved_at", "spam"),
                )
            )
            .on_conflict_do_nothing(),
            apart=True,
        )

    @lru_cache(maxsize=8)  # noqa: B019 (two instances, kept for the process's life)
    def bump_streams(self, count: int) -> Query[tuple[str, int]]:
        return _bump_streams(self._insert, count)


@cache
def upserts(dialect: str) -> _Upserts:
    """The upserts of `dialect`, built at its first use."""
    return _Upserts(dialect_insert(dialect))
