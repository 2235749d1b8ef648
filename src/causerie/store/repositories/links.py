"""`SqlLinks`: one-time links (invitations, password resets)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update

from causerie.domain.models import AccountLink, LinkPurpose, Member, Role
from causerie.store import codec
from causerie.store.db import SqlRepository
from causerie.store.schema.accounts import account_links, operators


class SqlLinks(SqlRepository):
    __slots__ = ()

    async def insert(self, link: AccountLink, token_hash: str) -> None:
        await self._db.execute(
            account_links.insert().values(
                id=link.id,
                token_hash=token_hash,
                purpose=link.purpose.value,
                operator_id=link.operator_id,
                created_at=link.created_at,
                expires_at=link.expires_at,
                website_id=link.website_id,
                role=None if link.role is None else link.role.value,
            )
        )

    async def get_by_token(self, token_hash: str) -> AccountLink | None:
        row = await self._db.one(
            select(account_links).where(account_links.c.token_hash == token_hash)
        )
        return None if row is None else codec.link(row)

    async def delete(self, link_id: str) -> bool:
        result = await self._db.execute(delete(account_links).where(account_links.c.id == link_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def delete_all(self, purpose: str, operator_id: str | None = None) -> None:
        stmt = delete(account_links).where(account_links.c.purpose == purpose)
        if operator_id is not None:
            stmt = stmt.where(account_links.c.operator_id == operator_id)
        await self._db.execute(stmt)

    async def get_invitation(
        self, website_id: str, operator_id: str, now: datetime
    ) -> AccountLink | None:
        row = await self._db.one(
            select(account_links).where(
                account_links.c.purpose == LinkPurpose.INVITE.value,
                account_links.c.website_id == website_id,
                account_links.c.operator_id == operator_id,
                account_links.c.expires_at > now,
            )
        )
        return None if row is None else codec.link(row)

    async def list_invitations(self, website_id: str, now: datetime) -> list[Member]:
        rows = await self._db.execute(
            select(operators, account_links.c.role)
            .join(account_links, account_links.c.operator_id == operators.c.id)
            .where(
                account_links.c.purpose == LinkPurpose.INVITE.value,
                account_links.c.website_id == website_id,
                account_links.c.expires_at > now,
            )
            .order_by(operators.c.name, operators.c.id)
        )
        return [Member(codec.operator(row), Role(row.role), pending=True) for row in rows]

    async def set_role(self, link_id: str, role: Role) -> None:
        await self._db.execute(
            update(account_links).where(account_links.c.id == link_id).values(role=role.value)
        )
