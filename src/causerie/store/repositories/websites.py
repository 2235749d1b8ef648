"""`SqlWebsites`: websites, and the chatbox load's one read (`get_with_session`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update

from causerie.domain.models import Session, Website
from causerie.store import codec, statements
from causerie.store.db import Db, SqliteDb, SqlRepository
from causerie.store.schema.accounts import websites
from causerie.store.schema.chat import conversations, events, streams

# At most this many websites' decoded rows are kept per connection (then all are dropped).
DECODED_WEBSITES_KEPT = 1024


class SqlWebsites(SqlRepository):
    __slots__ = ("_decoded",)

    def __init__(self, db: Db) -> None:
        super().__init__(db)
        # SQLite: per website id, the values of its row as the driver gave them at the last
        # chatbox load, and the `Website` decoded from them (`get_with_session`).
        self._decoded: dict[str, tuple[tuple[Any, ...], Website]] = {}

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
        return await self._db.fetch_one(statements.WEBSITE_BY_ID, {"id": website_id})

    async def lock(self, website_id: str) -> Website | None:
        # FOR NO KEY UPDATE: rows that refer to the website (a new webhook, label, reply) may
        # still be written by others meanwhile. SQLite renders none: its writers take turns.
        row = await self._db.one(
            select(websites).where(websites.c.id == website_id).with_for_update(key_share=True)
        )
        return None if row is None else codec.website(row)

    async def list_all(self) -> list[Website]:
        result = await self._db.execute(select(websites).order_by(websites.c.created_at))
        return [codec.website(row) for row in result]

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
        params = {"website": website_id, "token": token_hash}
        db = self._db
        if not isinstance(db, SqliteDb):
            found = await db.fetch_one(statements.WEBSITE_WITH_SESSION, params)
            return (None, None) if found is None else found
        # SQLite: the row is read whole as always, but the website's part of it is decoded
        # only when its values differ from those decoded last time for that website (its
        # origins' and settings' JSON, its time, the object): every chatbox load of a website
        # reads the same values until someone changes it. Nothing is reused that was not just
        # read, so a change is seen at once, whichever process made it.
        raw = await db.fetch_raw(statements.WEBSITE_WITH_SESSION, params)
        if raw is None:
            return None, None
        values = raw[: statements.WEBSITE_COLUMNS]
        kept = self._decoded.get(values[0])
        if kept is not None and kept[0] == values:
            website = kept[1]
        else:
            website = codec.website(statements.WEBSITE_BY_ID.for_driver().row(values))
            if len(self._decoded) >= DECODED_WEBSITES_KEPT:
                self._decoded.clear()
            self._decoded[website.id] = (values, website)
        session = raw[statements.WEBSITE_COLUMNS :]
        if session[0] is None:  # no session of that token on the website (an outer join)
            return website, None
        return website, codec.session(statements.SESSION_BY_TOKEN.for_driver().row(session))
