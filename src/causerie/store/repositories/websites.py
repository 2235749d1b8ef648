"""`SqlWebsites`: websites, and the chatbox load's one read (`get_with_session`)."""

from __future__ import annotations

import json
from collections import namedtuple
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, delete, func, select, update

from causerie.domain.models import Session, Website
from causerie.store import sqlite_hot, statements
from causerie.store.db import SqlRepository
from causerie.store.rows import session_from, website_from
from causerie.store.schema import conversations, events, streams, websites
from causerie.store.types import UTCDateTime


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
    """`SqlWebsites.get_with_session` on SQLite, on the driver's connection."""
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


class SqlWebsites(SqlRepository):
    __slots__ = ()

    async def insert(self, website: Website) -> None:
        await self._db.execute(
            websites.insert().values(
                id=website.id,
                name=website.name,
                origins=list(website.origins),
                settings=website.settings,
                created_at=website.created_at,
            )
        )

    async def get(self, website_id: str) -> Website | None:
        row = await self._db.one(statements.WEBSITE_BY_ID, {"id": website_id})
        return website_from(row) if row else None

    async def list_all(self) -> list[Website]:
        result = await self._db.execute(select(websites).order_by(websites.c.created_at))
        return [website_from(row) for row in result]

    async def update(self, website: Website) -> None:
        await self._db.execute(
            update(websites)
            .where(websites.c.id == website.id)
            .values(name=website.name, origins=list(website.origins), settings=website.settings)
        )

    async def delete(self, website_id: str) -> int:
        count = await self._db.count(
            select(func.count()).where(conversations.c.website_id == website_id)
        )
        stream = f"website:{website_id}"
        await self._db.execute(delete(events).where(events.c.stream == stream))
        await self._db.execute(delete(streams).where(streams.c.stream == stream))
        await self._db.execute(delete(websites).where(websites.c.id == website_id))
        return count

    async def get_with_session(
        self, website_id: str, token_hash: str | None
    ) -> tuple[Website | None, Session | None]:
        if self._db.raw is not None:
            return sqlite_website_and_session(self._db.raw, website_id, token_hash)
        params = {"website": website_id, "token": token_hash}
        row = await self._db.one(statements.WEBSITE_WITH_SESSION, params)
        return (None, None) if row is None else _website_and_session(row)
