"""The inbox's conversation list and its search, for `SqlConversations.list_page`.

The list is keyset-paginated on (last_message_at, id), newest first, and served by the
conversations indexes on (website_id, [state | assignee_id,] last_message_at): the first page
reads a few dozen index entries whatever the number of conversations. A search (`q=`) takes its
own path on each database, for the same answers: trigram indexes on PostgreSQL, and on SQLite a
look at the newest conversations before one scan of every message (docs/performance.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Row,
    Select,
    Text,
    and_,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
    union_all,
)

from causerie.domain.models import ConversationState, ConversationSummary
from causerie.store import codec, statements
from causerie.store.db import Db
from causerie.store.schema.chat import conversations, messages, sessions

_LAST_MESSAGE_ID = (
    select(messages.c.id)
    .where(messages.c.conversation_id == conversations.c.id)
    .order_by(messages.c.seq.desc())
    .limit(1)
    .scalar_subquery()
    .label("last_message_id")
)

# How many of a list's newest conversations a search on SQLite reads one by one, before it scans
# every message instead (`_search_sqlite`).
SQLITE_PROBE = 2000

# The conditions that make a conversation part of the list, on `conversations` or an alias of it.
_Listed = Callable[[FromClause], list[ColumnElement[bool]]]

_ASCII_RUN = re.compile(r"[\x00-\x7f]+")
_LIKE_ESCAPES = str.maketrans({"/": "//", "%": "/%", "_": "/_"})


def _like_any_case(run: str) -> str:
    """A LIKE pattern (escape "/") that SQLite matches, in C, against every text whose lowercase
    contains `run` (ASCII, lowercase).

    SQLite's LIKE folds ASCII letters. Python's `str.lower` (the store's `lower`) also turns two
    characters outside ASCII into ASCII letters: the Kelvin sign into "k", and "İ" into "i"
    followed by a combining dot (tests/test_search.py checks that no other does). So "_" stands
    at every "k", and at a last "i" (in the middle of `run`, the dot would follow it)."""
    last = len(run) - 1
    loose = (
        "_" if c == "k" or (c == "i" and at == last) else c.translate(_LIKE_ESCAPES)
        for at, c in enumerate(run)
    )
    return f"%{''.join(loose)}%"


def _sqlite_contains(column: ColumnElement[Any], needle: str) -> ColumnElement[bool]:
    """`lower(column)` contains `needle` (lowercase, `%` and `_` literal), with as few calls to
    `lower` as give that answer.

    `lower` is a Python function on SQLite, called per row; SQLite's LIKE runs in C. A text
    matches only if LIKE finds the needle's longest ASCII run in it (`_like_any_case`): that
    alone answers for an ASCII needle without "k" or a last "i"; otherwise LIKE on the needle
    itself, then `lower`, decide among the few texts it lets through.
    """
    exact = func.lower(column).contains(needle, autoescape=True)
    run = max(_ASCII_RUN.findall(needle), key=len, default="")
    if not run:
        return exact
    pattern = _like_any_case(run)
    if run != needle:
        return and_(column.like(pattern, escape="/"), exact)
    plain = column.contains(needle, autoescape=True)
    if pattern == f"%{needle.translate(_LIKE_ESCAPES)}%":
        return plain
    return and_(column.like(pattern, escape="/"), or_(plain, exact))


def has_label(c: FromClause, label_id: str) -> ColumnElement[bool]:
    """The conversation (`conversations` or an alias) holds the label.

    Its `labels` are a JSON list of ids, which both databases write as text with each id in
    double quotes (ids are letters and digits: nothing in them is escaped), so the quoted id
    is found in that text the same way on both. No index serves it: the list's walk in its
    index order tests each conversation until the page is full."""
    quoted = json.dumps(label_id)
    return cast(c.c.labels, Text).contains(quoted, autoescape=True)


def _newest_first(c: FromClause) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    return c.c.last_message_at.desc(), c.c.id.desc()


async def list_page(
    db: Db,
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
    def listed(c: FromClause) -> list[ColumnElement[bool]]:
        where = [c.c.website_id == website_id, c.c.last_message_at.is_not(None)]
        if label is not None:
            where.append(has_label(c, label))
        where.append(c.c.spam.is_(spam))
        if state is not None:
            where.append(c.c.state == state.value)
        if unassigned:
            where.append(c.c.assignee_id.is_(None))
        elif assignee is not None:
            where.append(c.c.assignee_id == assignee)
        if after is not None:
            at, last_id = after
            where += [
                # Redundant with the next line, but an index range: PostgreSQL starts its scan
                # at the cursor instead of filtering every newer row (docs/performance.md).
                c.c.last_message_at <= at,
                or_(
                    c.c.last_message_at < at,
                    and_(c.c.last_message_at == at, c.c.id < last_id),
                ),
            ]
        return where

    c = conversations
    stmt = (
        select(c, sessions.c.nickname, sessions.c.email, _LAST_MESSAGE_ID)
        .join(sessions, sessions.c.id == c.c.session_id)
        .where(*listed(c))
        .order_by(*_newest_first(c))
        .limit(limit)
    )
    if not query:
        rows = list((await db.execute(stmt)).all())
    elif db.dialect == "postgresql":
        rows = await _search_postgresql(db, stmt, listed, query.lower(), limit)
    else:
        rows = await _search_sqlite(db, stmt, listed, query.lower(), limit)
    ids = [row.last_message_id for row in rows if row.last_message_id is not None]
    last = {}
    if ids:
        found = await db.execute(statements.MESSAGE_SELECT.where(messages.c.id.in_(ids)))
        last = {row.id: codec.message(row) for row in found}
    return [
        ConversationSummary(
            conversation=codec.conversation(row),
            nickname=row.nickname,
            email=row.email,
            last_message=last.get(row.last_message_id),
        )
        for row in rows
    ]


async def _search_postgresql(
    db: Db, stmt: Select[Any], listed: _Listed, needle: str, limit: int
) -> list[Row[Any]]:
    """The list's first `limit` conversations whose visitor's nickname or email, or one of
    whose messages (notes included), contains `needle` once lowered.

    Two branches, each the first `limit` of the list by one criterion, whose union holds the
    answer. Each is a plain join or semi-join that the planner serves from the list's index
    (a frequent word: the newest conversations match) or from the trigram indexes on
    `lower(...)` (a rare one: the few matching rows, then their conversations), as the
    statistics of those expressions tell. A needle without 3 letters or digits in a row has
    no trigram to look up: the list's index or a scan serves it.
    """
    hit, visitor = conversations.alias("hit"), sessions.alias("visitor")

    def contains(column: ColumnElement[Any]) -> ColumnElement[bool]:
        return func.lower(column).contains(needle, autoescape=True)

    by_visitor = (
        select(hit.c.id)
        .join(visitor, visitor.c.id == hit.c.session_id)
        .where(*listed(hit), or_(contains(visitor.c.nickname), contains(visitor.c.email)))
        .order_by(*_newest_first(hit))
        .limit(limit)
        .correlate(None)
    )
    by_message = (
        select(hit.c.id)
        .where(
            *listed(hit),
            exists().where(messages.c.conversation_id == hit.c.id, contains(messages.c.body)),
        )
        .order_by(*_newest_first(hit))
        .limit(limit)
        .correlate(None)
    )
    # The right plan depends on the needle: plan with its value each time, never with a
    # generic plan that the driver's prepared statement could settle on after a few runs.
    await db.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    found = stmt.where(conversations.c.id.in_(union_all(by_visitor, by_message)))
    return list((await db.execute(found)).all())


async def _search_sqlite(
    db: Db, stmt: Select[Any], listed: _Listed, needle: str, limit: int
) -> list[Row[Any]]:
    """As `_search_postgresql`, without an index to serve it.

    First the list's newest `SQLITE_PROBE` conversations, each with its visitor and its
    messages (all a frequent word needs); when they hold fewer than `limit` matches, one scan
    of every visitor and every message finds the matching conversations, and the list keeps
    those. The probe costs about 10 µs a conversation (its messages are scattered over the
    table), the scan about 0.2 µs a message: probing a whole list of 90,000 conversations
    would cost 1 s, the scan of their million messages 0.2 s (docs/performance.md).
    """
    c = conversations

    def contains(column: ColumnElement[Any]) -> ColumnElement[bool]:
        return _sqlite_contains(column, needle)

    probe = stmt.where(
        or_(
            contains(sessions.c.nickname),
            contains(sessions.c.email),
            exists().where(messages.c.conversation_id == c.c.id, contains(messages.c.body)),
        )
    )
    # The last activity of the (SQLITE_PROBE + 1)th conversation: the probe reads all those
    # at least as recent, a first part of the list, in which the first `limit` matches are
    # the list's. (Ordered by time alone, ties do not change it: the index answers alone.)
    edge = await db.one(
        select(c.c.last_message_at)
        .where(*listed(c))
        .order_by(c.c.last_message_at.desc())
        .offset(SQLITE_PROBE)
        .limit(1)
    )
    if edge is None:  # the whole list is in the probe
        return list((await db.execute(probe)).all())
    rows = list((await db.execute(probe.where(c.c.last_message_at >= edge[0]))).all())
    if len(rows) >= limit:
        return rows
    # Matches as sets of rowids: the list's index holds each conversation's rowid, so its
    # walk tests them without reading the table (the conversation's id is in the table).
    hit = conversations.alias("hit")
    rowid: ColumnElement[int] = literal_column("hit.rowid")
    talked = select(messages.c.conversation_id).where(contains(messages.c.body))
    named = select(sessions.c.id).where(
        or_(contains(sessions.c.nickname), contains(sessions.c.email))
    )
    found = stmt.where(
        literal_column("conversations.rowid").in_(
            union_all(
                select(rowid).where(hit.c.id.in_(talked.correlate(None))),
                select(rowid).where(hit.c.session_id.in_(named.correlate(None))),
            )
        )
    )
    return list((await db.execute(found)).all())
