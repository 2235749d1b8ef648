"""`SqlWebsites`: websites, and the chatbox load's one read (`get_with_session`)."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update

from causerie.domain.models import Session, Website
from causerie.store import codec, statements
from causerie.store.db import SqlRepository
from causerie.store.schema.accounts import websites
from causerie.store.schema.chat import conversations, events, streams


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
        return await self._db.fetch_one(statements.WEBSITE_BY_ID, {"id": website_id})

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
        found = await self._db.fetch_one(statements.WEBSITE_WITH_SESSION, params)
        return (None, None) if found is None else found
