"""`SqlApiTokens`: operators' API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from causerie.domain.models import ApiToken
from causerie.store import codec
from causerie.store.db import SqlRepository
from causerie.store.schema.accounts import api_tokens


class SqlApiTokens(SqlRepository):
    __slots__ = ()

    async def insert(self, token: ApiToken, token_hash: str) -> None:
        await self._db.execute(
            api_tokens.insert().values(
                id=token.id,
                operator_id=token.operator_id,
                name=token.name,
                token_hash=token_hash,
                scopes=sorted(token.scopes),
                website_ids=None if token.website_ids is None else sorted(token.website_ids),
                created_at=token.created_at,
            )
        )

    async def get_by_token(self, token_hash: str) -> ApiToken | None:
        row = await self._db.one(
            select(api_tokens).where(
                api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None)
            )
        )
        return codec.api_token(row) if row else None

    async def list_for_operator(self, operator_id: str) -> list[ApiToken]:
        rows = await self._db.execute(
            select(api_tokens)
            .where(api_tokens.c.operator_id == operator_id, api_tokens.c.revoked_at.is_(None))
            .order_by(api_tokens.c.created_at, api_tokens.c.id)
        )
        return [codec.api_token(row) for row in rows]

    async def revoke(self, operator_id: str, token_id: str, at: datetime) -> bool:
        result = await self._db.execute(
            update(api_tokens)
            .where(
                api_tokens.c.id == token_id,
                api_tokens.c.operator_id == operator_id,
                api_tokens.c.revoked_at.is_(None),
            )
            .values(revoked_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def touch(self, token_id: str, at: datetime) -> None:
        await self._db.execute(
            update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=at)
        )
