"""`SqlOperators`: operators' accounts, names and passwords."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, select, update

from causerie.domain.models import Operator
from causerie.store import codec
from causerie.store.db import SqlRepository
from causerie.store.schema.accounts import memberships, operators


class SqlOperators(SqlRepository):
    __slots__ = ()

    async def lock(self, operator_id: str) -> bool:
        row = await self._db.one(
            select(operators.c.id)
            .where(operators.c.id == operator_id)
            .with_for_update(key_share=True)
        )
        return row is not None

    async def insert(self, operator: Operator, password_hash: str | None) -> None:
        await self._db.execute(
            operators.insert().values(
                id=operator.id,
                email=operator.email,
                name=operator.name,
                password_hash=password_hash,
                password_is_temporary=password_hash is not None,
                created_at=operator.created_at,
            )
        )

    async def count(self) -> int:
        return await self._db.count(select(func.count()).select_from(operators))

    async def list_without_website(self) -> list[Operator]:
        member = exists().where(memberships.c.operator_id == operators.c.id)
        rows = await self._db.execute(
            select(operators).where(~member).order_by(operators.c.created_at, operators.c.id)
        )
        return [codec.operator(row) for row in rows]

    async def get(self, operator_id: str) -> Operator | None:
        row = await self._db.one(select(operators).where(operators.c.id == operator_id))
        return codec.operator(row) if row else None

    async def get_by_email(self, email: str) -> Operator | None:
        row = await self._db.one(select(operators).where(operators.c.email == email))
        return codec.operator(row) if row else None

    async def get_password_hash(self, operator_id: str) -> str | None:
        row = await self._db.one(
            select(operators.c.password_hash).where(operators.c.id == operator_id)
        )
        return row.password_hash if row else None

    async def set_password(self, operator_id: str, password_hash: str) -> None:
        await self._db.execute(
            update(operators)
            .where(operators.c.id == operator_id)
            .values(password_hash=password_hash, password_is_temporary=False)
        )

    async def set_first_password(self, operator_id: str, password_hash: str) -> bool:
        result = await self._db.execute(
            update(operators)
            .where(operators.c.id == operator_id, operators.c.password_hash.is_(None))
            .values(password_hash=password_hash, password_is_temporary=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def set_name(self, operator_id: str, name: str) -> None:
        await self._db.execute(
            update(operators).where(operators.c.id == operator_id).values(name=name)
        )

    async def get_language(self, operator_id: str) -> str | None:
        row = await self._db.one(select(operators.c.language).where(operators.c.id == operator_id))
        return row.language if row else None

    async def set_language(self, operator_id: str, language: str | None) -> None:
        await self._db.execute(
            update(operators).where(operators.c.id == operator_id).values(language=language)
        )

    async def record_login(self, operator_id: str, at: datetime) -> None:
        await self._db.execute(
            update(operators).where(operators.c.id == operator_id).values(last_login_at=at)
        )
