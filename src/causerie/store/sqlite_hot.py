"""The message path's statements in plain SQL, run on SQLite's own driver (docs/performance.md).

Executing even a prebuilt SQLAlchemy statement costs 30-70 us (execution context, parameter
processing, result wrapping); the same statement on the `sqlite3` connection costs a few. A
message runs about six of them, so on SQLite `SqlTx` sends these few through the driver, inside
the same transaction and savepoint as everything else. Values are stored exactly as SQLAlchemy
stores them (its DATETIME and DATE text formats, JSON text), so either side reads what the other
wrote; tests/test_store_hot.py checks it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import UTC, date, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

from causerie.domain.models import (
    Conversation,
    ConversationState,
    Session,
    SessionState,
)

Raw = sqlite3.Connection

_SESSION_COLUMNS = (
    "id, website_id, state, created_at, last_access_at, permanent_since, ip, ip_seen_at, "
    "user_agent, locale, timezone, page_url, page_title, page_referrer, nickname, email, phone, "
    "data, consent_version, consent_at"
)
_CONVERSATION_COLUMNS = (
    "id, website_id, session_id, state, assignee_id, created_at, updated_at, last_message_at, "
    "unread_by_visitor, unread_by_operator, visitor_read_up_to, operator_read_up_to"
)
_N_SESSION = 20

# Every statement below is assembled from the constants of this module, never from a value: the
# values always go as `?` parameters (hence the noqa S608 markers).
SESSION_AND_CONVERSATION = (
    f"SELECT {', '.join('s.' + c.strip() for c in _SESSION_COLUMNS.split(','))}, "  # noqa: S608
    f"{', '.join('c.' + c.strip() for c in _CONVERSATION_COLUMNS.split(','))} "
    "FROM sessions AS s LEFT OUTER JOIN conversations AS c ON c.session_id = s.id "
    "WHERE s.id = ?"
)
INSERT_MESSAGE = (
    "INSERT INTO messages (id, conversation_id, author, operator_id, type, body, client_id, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
INSERT_CONVERSATION = (
    "INSERT INTO conversations (id, website_id, session_id, state, assignee_id, created_at, "
    "updated_at, last_message_at, unread_by_visitor, unread_by_operator) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0) ON CONFLICT DO NOTHING"
)
MAKE_PERMANENT = (
    f"UPDATE sessions SET state = '{SessionState.PERMANENT.value}', permanent_since = ? "  # noqa: S608
    f"WHERE id = ? AND state = '{SessionState.TEMPORARY.value}'"
)
COUNT_NETWORK = (
    "INSERT INTO network_stats (network, day, sessions, messages) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (network, day) DO UPDATE SET sessions = network_stats.sessions + "
    "excluded.sessions, messages = network_stats.messages + excluded.messages"
)
INSERT_EVENT = (
    "INSERT INTO events (stream, seq, type, object_id, session_id, data, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def _touch(reopen: bool, unread_column: str | None, returning: bool) -> str:
    sets = ["updated_at = ?", "last_message_at = ?"]
    if reopen:
        sets.append(f"state = '{ConversationState.OPEN.value}'")
    if unread_column is not None:
        sets.append(f"{unread_column} = {unread_column} + 1")
    tail = f" RETURNING {_CONVERSATION_COLUMNS}" if returning else ""
    return f"UPDATE conversations SET {', '.join(sets)} WHERE id = ?{tail}"  # noqa: S608


# (reopen, unread column or None, returning) -> the statement; parameters: at, at, id.
TOUCH_CONVERSATION = {
    (reopen, unread, returning): _touch(reopen, unread, returning)
    for reopen in (False, True)
    for unread in (None, "unread_by_visitor", "unread_by_operator")
    for returning in (False, True)
}


@lru_cache(maxsize=16)
def bump_streams(count: int) -> str:
    """Move `count` streams forward by the given steps at once; each row says its new last seq.

    Parameters: (stream, step, owning session or None) for each stream.
    """
    rows = ", ".join(["(?, ?, ?)"] * count)
    return (
        f"INSERT INTO streams (stream, last_seq, session_id) VALUES {rows} "  # noqa: S608
        "ON CONFLICT (stream) DO UPDATE SET last_seq = streams.last_seq + excluded.last_seq "
        "RETURNING stream, last_seq"
    )


def db_time(value: datetime | None) -> str | None:
    """SQLAlchemy's DATETIME text for an aware datetime, in UTC (as `UTCDateTime` binds it)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def db_date(value: date) -> str:
    return value.isoformat()


def db_json(value: Any) -> str:
    return json.dumps(value)


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def _required_time(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _session_data(text: str) -> dict[str, Any]:
    return {} if text == "{}" else dict(json.loads(text))  # most sessions': no decoder needed


SESSION_NAMES = tuple(c.strip() for c in _SESSION_COLUMNS.split(","))
_SESSION_STATES = {state.value: state for state in SessionState}
_SESSION_FIELDS = [f.name for f in fields(Session)]
_SESSION_DECODE: dict[str, Callable[[Any], Any]] = {
    "state": _SESSION_STATES.__getitem__,
    "created_at": _required_time,
    "last_access_at": _required_time,
    "permanent_since": _time,
    "ip_seen_at": _time,
    "data": _session_data,
    "consent_at": _time,
}
_SESSION_DECODERS = [
    (position, _SESSION_DECODE[name])
    for position, name in enumerate(_SESSION_FIELDS)
    if name in _SESSION_DECODE
]


def session_reader(at: int) -> Callable[[Sequence[Any]], Session]:
    """Builds a `Session` from a raw row whose session columns (`SESSION_NAMES`) start at `at`:
    the values picked in the dataclass's field order (one C call), decoded, passed by position.
    Every chatbox renewal and every message builds one."""
    pick = itemgetter(*(at + SESSION_NAMES.index(name) for name in _SESSION_FIELDS))

    def read(row: Sequence[Any]) -> Session:
        values = list(pick(row))
        for position, decode in _SESSION_DECODERS:
            values[position] = decode(values[position])
        return Session(*values)

    return read


session_from = session_reader(0)


def conversation_from(row: Sequence[Any], at: int = 0) -> Conversation:
    return Conversation(
        id=row[at],
        website_id=row[at + 1],
        session_id=row[at + 2],
        state=ConversationState(row[at + 3]),
        assignee_id=row[at + 4],
        created_at=_required_time(row[at + 5]),
        updated_at=_required_time(row[at + 6]),
        last_message_at=_time(row[at + 7]),
        unread_by_visitor=row[at + 8],
        unread_by_operator=row[at + 9],
        visitor_read_up_to=row[at + 10],
        operator_read_up_to=row[at + 11],
    )


def session_and_conversation(
    raw: Raw, session_id: str
) -> tuple[Session | None, Conversation | None]:
    row = raw.execute(SESSION_AND_CONVERSATION, (session_id,)).fetchone()
    if row is None:
        return None, None
    conversation = conversation_from(row, _N_SESSION) if row[_N_SESSION] is not None else None
    return session_from(row), conversation
