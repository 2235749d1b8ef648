"""`SqlMembers`: memberships, an operator's role on a website."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update

from causerie.domain.models import Member, Role, Website
from causerie.store import codec
from causerie.store.db import SqlRepository
from causerie.store.schema.accounts import memberships, operators, websites


class SqlMembers(SqlRepository):
    __slots__ = ()

    async def set_role(self, website_id: str, operator_id: str, role: Role, at: datetime) -> None:
        changed = await self._db.execute(
            update(memberships)
            .where(
                memberships.c.website_id == website_id,
                memberships.c.operator_id == operator_id,
            )
            .values(role=role.value)
        )
        if changed.rowcount == 0:  # type: ignore[attr-defined]
            await self._db.execute(
                memberships.insert().values(
                    website_id=website_id, operator_id=operator_id, role=role.value, created_at=at
                )
            )

    async def get_role(self, operator_id: str, website_id: str) -> Role | None:
        row = await self._db.one(
            select(memberships.c.role).where(
                memberships.c.operator_id == operator_id,
                memberships.c.website_id == website_id,
            )
        )
        return Role(row.role) if row else None

    async def list_for_operator(self, operator_id: str) -> list[tuple[Website, Role]]:
        rows = await self._db.execute(
            select(websites, memberships.c.role)
            .join(memberships, memberships.c.website_id == websites.c.id)
            .where(memberships.c.operator_id == operator_id)
            .order_by(websites.c.name, websites.c.id)
        )
        return [(codec.website(row), Role(row.role)) for row in rows]

    async def list_for_website(self, website_id: str) -> list[Member]:
        rows = await self._db.execute(
            select(operators, memberships.c.role)
            .join(memberships, memberships.c.operator_id == operators.c.id)
            .where(memberships.c.website_id == website_id)
            .order_by(operators.c.name, operators.c.id)
        )
        return [
            Member(
                operator=codec.operator(row),
                role=Role(row.role),
                pending=row.password_hash is None,
            )
            for row in rows
        ]

    async def delete(self, website_id: str, operator_id: str) -> bool:
        result = await self._db.execute(
            delete(memberships).where(
                memberships.c.website_id == website_id, memberships.c.operator_id == operator_id
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def count_owners(self, website_id: str) -> int:
        return await self._db.count(
            select(func.count()).where(
                memberships.c.website_id == website_id, memberships.c.role == Role.OWNER.value
            )
        )
