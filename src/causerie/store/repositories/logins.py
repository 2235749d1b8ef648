"""`SqlLogins`: operators' logins to the inbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update

from causerie.domain.models import Login
from causerie.store import codec
from causerie.store.db import SqlRepository
from causerie.store.schema.accounts import logins


class SqlLogins(SqlRepository):
    __slots__ = ()

    async def insert(self, login: Login, token_hash: str) -> None:
        await self._db.execute(
            logins.insert().values(
                id=login.id,
                operator_id=login.operator_id,
                token_hash=token_hash,
                created_at=login.created_at,
                last_seen_at=login.last_seen_at,
                expires_at=login.expires_at,
            )
        )

    async def get_by_token(self, token_hash: str) -> Login | None:
        row = await self._db.one(select(logins).where(logins.c.token_hash == token_hash))
        return codec.login(row) if row else None

    async def extend(self, login_id: str, seen_at: datetime, expires_at: datetime) -> None:
        await self._db.execute(
            update(logins)
            .where(logins.c.id == login_id)
            .values(last_seen_at=seen_at, expires_at=expires_at)
        )

    async def delete(self, login_id: str) -> None:
        await self._db.execute(delete(logins).where(logins.c.id == login_id))

    async def delete_others(self, operator_id: str, keep_login_id: str | None) -> list[str]:
        stmt = delete(logins).where(logins.c.operator_id == operator_id)
        if keep_login_id is not None:
            stmt = stmt.where(logins.c.id != keep_login_id)
        result = await self._db.execute(stmt.returning(logins.c.id))
        return [row.id for row in result]
