"""Statements of the hot paths, built once.

Building a SQLAlchemy statement costs five times more than executing a built one, so the queries
run on every chatbox load, message and event are constructed here at import, with bind
parameters, and executed with a dict of values. Upserts differ by dialect: one of each.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, and_, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from causerie.domain.models import ConversationState, MessageType, SessionState
from causerie.store.schema import (
    conversations,
    events,
    messages,
    network_stats,
    operators,
    sessions,
    streams,
    websites,
)

SESSION_COLUMNS = [c for c in sessions.c if c.name != "token_hash"]

WEBSITE_BY_ID = select(websites).where(websites.c.id == bindparam("id"))

SESSION_BY_TOKEN = select(*SESSION_COLUMNS).where(sessions.c.token_hash == bindparam("token"))
SESSION_BY_TOKEN_ON_WEBSITE = SESSION_BY_TOKEN.where(sessions.c.website_id == bindparam("website"))
SESSION_BY_ID = select(*SESSION_COLUMNS).where(sessions.c.id == bindparam("id"))
INSERT_SESSION = sessions.insert()

# A chatbox load's one read: the website, and the session of the token on it if there is one.
# Website columns first under their names, then the session's (as `SESSION_COLUMNS`) prefixed.
WEBSITE_WITH_SESSION = (
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
    .where(websites.c.id == bindparam("website"))
)
# The same statement as SQL text for the sqlite3 driver itself (its statement cache keeps it
# prepared): run without SQLAlchemy's execution machinery, which costs more than the query.
WEBSITE_WITH_SESSION_SQLITE = str(
    WEBSITE_WITH_SESSION.compile(dialect=sqlite.dialect(paramstyle="named"))
)


def _visit(ip: bool, page: bool) -> Any:
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
            locale=func.coalesce(bindparam("v_locale"), sessions.c.locale),
            timezone=func.coalesce(bindparam("v_timezone"), sessions.c.timezone),
        )
    return update(sessions).where(sessions.c.id == bindparam("v_session")).values(values)


RECORD_VISIT = {(ip, page): _visit(ip, page) for ip in (False, True) for page in (False, True)}

MAKE_PERMANENT = (
    update(sessions)
    .where(
        sessions.c.id == bindparam("p_session"),
        sessions.c.state == SessionState.TEMPORARY.value,
    )
    .values(state=SessionState.PERMANENT.value, permanent_since=bindparam("p_at"))
)

CONVERSATION_BY_ID = select(conversations).where(conversations.c.id == bindparam("id"))
CONVERSATION_OF_SESSION = select(conversations).where(
    conversations.c.session_id == bindparam("session")
)

UNREAD_COLUMN = {"visitor": "unread_by_visitor", "operator": "unread_by_operator"}


def _touch(reopen: bool, unread: str | None, returning: bool) -> Any:
    values: dict[str, Any] = {
        "updated_at": bindparam("t_at"),
        "last_message_at": bindparam("t_at"),
    }
    if reopen:
        values["state"] = ConversationState.OPEN.value
    if unread is not None:
        values[unread] = conversations.c[unread] + 1
    stmt = update(conversations).where(conversations.c.id == bindparam("t_id")).values(values)
    return stmt.returning(*conversations.c) if returning else stmt


TOUCH_CONVERSATION = {
    (reopen, unread, returning): _touch(reopen, unread, returning)
    for reopen in (False, True)
    for unread in (None, *UNREAD_COLUMN.values())
    for returning in (False, True)
}

MESSAGE_SELECT = select(*messages.c, operators.c.name.label("operator_name")).select_from(
    messages.outerjoin(operators, messages.c.operator_id == operators.c.id)
)
MESSAGE_BY_ID = MESSAGE_SELECT.where(
    messages.c.conversation_id == bindparam("conversation"), messages.c.id == bindparam("id")
)
MESSAGE_BY_CLIENT_ID = MESSAGE_SELECT.where(
    messages.c.conversation_id == bindparam("conversation"),
    messages.c.client_id == bindparam("client_id"),
)


def _latest(include_notes: bool, before: bool) -> Any:
    stmt = MESSAGE_SELECT.where(messages.c.conversation_id == bindparam("conversation"))
    if not include_notes:
        stmt = stmt.where(messages.c.type != MessageType.NOTE.value)
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
    return stmt.order_by(messages.c.seq.desc()).limit(bindparam("limit"))


LATEST_MESSAGES = {(n, b): _latest(n, b) for n in (False, True) for b in (False, True)}

LAST_SEQ = select(streams.c.last_seq).where(streams.c.stream == bindparam("stream"))
INSERT_EVENT = events.insert()


def _dialect_statements(insert: Any) -> dict[str, Any]:
    return {
        "bump_stream": insert(streams)
        .values(
            stream=bindparam("b_stream"),
            last_seq=bindparam("b_step"),
            session_id=bindparam("b_session"),
        )
        .on_conflict_do_update(
            index_elements=["stream"],
            set_={"last_seq": streams.c.last_seq + bindparam("b_more", type_=BigInteger)},
        )
        .returning(streams.c.last_seq),
        "count_network": insert(network_stats)
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
        ),
        "insert_message": insert(messages).on_conflict_do_nothing(),
        "insert_conversation": insert(conversations).on_conflict_do_nothing(),
    }


BY_DIALECT = {
    "sqlite": _dialect_statements(sqlite.insert),
    "postgresql": _dialect_statements(postgresql.insert),
}
