"""Statements for accounts: passwords, logins, one-time links, memberships and API tokens.

A mixin of `SqlTx` (store/tx.py), which provides `_execute` and `_one`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update

from causerie.domain.models import (
    AccountLink,
    ApiToken,
    LinkPurpose,
    Login,
    Member,
    Role,
    Scope,
    Website,
)
from causerie.store.rows import operator_from, website_from
from causerie.store.schema import (
    account_links,
    api_tokens,
    logins,
    memberships,
    operators,
    websites,
)
from causerie.store.sql_mixin import SqlMixin

if TYPE_CHECKING:
    from sqlalchemy import Row


def _api_token(row: Row[Any]) -> ApiToken:
    return ApiToken(
        id=row.id,
        operator_id=row.operator_id,
        name=row.name,
        scopes=frozenset(Scope(s) for s in row.scopes),
        created_at=row.created_at,
        website_ids=None if row.website_ids is None else frozenset(row.website_ids),
        last_used_at=row.last_used_at,
    )


def _link(row: Row[Any]) -> AccountLink:
    return AccountLink(
        id=row.id,
        purpose=LinkPurpose(row.purpose),
        operator_id=row.operator_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        website_id=row.website_id,
        role=None if row.role is None else Role(row.role),
    )


def _login(row: Row[Any]) -> Login:
    return Login(
        id=row.id,
        operator_id=row.operator_id,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
    )


class AccountsSql(SqlMixin):
    # API tokens

    async def insert_api_token(self, token: ApiToken, token_hash: str) -> None:
        await self._execute(
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

    async def get_api_token(self, token_hash: str) -> ApiToken | None:
        row = await self._one(
            select(api_tokens).where(
                api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None)
            )
        )
        return _api_token(row) if row else None

    async def list_api_tokens(self, operator_id: str) -> list[ApiToken]:
        rows = await self._execute(
            select(api_tokens)
            .where(api_tokens.c.operator_id == operator_id, api_tokens.c.revoked_at.is_(None))
            .order_by(api_tokens.c.created_at, api_tokens.c.id)
        )
        return [_api_token(row) for row in rows]

    async def revoke_api_token(self, operator_id: str, token_id: str, at: datetime) -> bool:
        result = await self._execute(
            update(api_tokens)
            .where(
                api_tokens.c.id == token_id,
                api_tokens.c.operator_id == operator_id,
                api_tokens.c.revoked_at.is_(None),
            )
            .values(revoked_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def touch_api_token(self, token_id: str, at: datetime) -> None:
        await self._execute(
            update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=at)
        )

    # passwords and names

    async def get_password_hash(self, operator_id: str) -> str | None:
        row = await self._one(
            select(operators.c.password_hash).where(operators.c.id == operator_id)
        )
        return row.password_hash if row else None

    async def set_password(self, operator_id: str, password_hash: str) -> None:
        await self._execute(
            update(operators)
            .where(operators.c.id == operator_id)
            .values(password_hash=password_hash, password_is_temporary=False)
        )

    async def set_first_password(self, operator_id: str, password_hash: str) -> bool:
        """Set the password of an account that has none; False when it has one already."""
        result = await self._execute(
            update(operators)
            .where(operators.c.id == operator_id, operators.c.password_hash.is_(None))
            .values(password_hash=password_hash, password_is_temporary=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def set_operator_name(self, operator_id: str, name: str) -> None:
        await self._execute(
            update(operators).where(operators.c.id == operator_id).values(name=name)
        )

    async def record_login(self, operator_id: str, at: datetime) -> None:
        await self._execute(
            update(operators).where(operators.c.id == operator_id).values(last_login_at=at)
        )

    # logins

    async def insert_login(self, login: Login, token_hash: str) -> None:
        await self._execute(
            logins.insert().values(
                id=login.id,
                operator_id=login.operator_id,
                token_hash=token_hash,
                created_at=login.created_at,
                last_seen_at=login.last_seen_at,
                expires_at=login.expires_at,
            )
        )

    async def get_login(self, token_hash: str) -> Login | None:
        row = await self._one(select(logins).where(logins.c.token_hash == token_hash))
        return _login(row) if row else None

    async def extend_login(self, login_id: str, seen_at: datetime, expires_at: datetime) -> None:
        await self._execute(
            update(logins)
            .where(logins.c.id == login_id)
            .values(last_seen_at=seen_at, expires_at=expires_at)
        )

    async def delete_login(self, login_id: str) -> None:
        await self._execute(delete(logins).where(logins.c.id == login_id))

    async def delete_other_logins(self, operator_id: str, keep_login_id: str | None) -> list[str]:
        stmt = delete(logins).where(logins.c.operator_id == operator_id)
        if keep_login_id is not None:
            stmt = stmt.where(logins.c.id != keep_login_id)
        result = await self._execute(stmt.returning(logins.c.id))
        return [row.id for row in result]

    # one-time links

    async def insert_link(self, link: AccountLink, token_hash: str) -> None:
        await self._execute(
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

    async def get_link(self, token_hash: str) -> AccountLink | None:
        row = await self._one(select(account_links).where(account_links.c.token_hash == token_hash))
        return _link(row) if row else None

    async def get_invitation(
        self, website_id: str, operator_id: str, now: datetime
    ) -> AccountLink | None:
        row = await self._one(
            select(account_links).where(
                account_links.c.purpose == LinkPurpose.INVITE.value,
                account_links.c.website_id == website_id,
                account_links.c.operator_id == operator_id,
                account_links.c.expires_at > now,
            )
        )
        return _link(row) if row else None

    async def list_invitations(self, website_id: str, now: datetime) -> list[Member]:
        rows = await self._execute(
            select(operators, account_links.c.role)
            .join(account_links, account_links.c.operator_id == operators.c.id)
            .where(
                account_links.c.purpose == LinkPurpose.INVITE.value,
                account_links.c.website_id == website_id,
                account_links.c.expires_at > now,
            )
            .order_by(operators.c.name, operators.c.id)
        )
        return [Member(operator_from(row), Role(row.role), pending=True) for row in rows]

    async def set_link_role(self, link_id: str, role: Role) -> None:
        await self._execute(
            update(account_links).where(account_links.c.id == link_id).values(role=role.value)
        )

    async def delete_link(self, link_id: str) -> bool:
        result = await self._execute(delete(account_links).where(account_links.c.id == link_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def delete_links(self, purpose: str, operator_id: str | None = None) -> None:
        stmt = delete(account_links).where(account_links.c.purpose == purpose)
        if operator_id is not None:
            stmt = stmt.where(account_links.c.operator_id == operator_id)
        await self._execute(stmt)

    # memberships

    async def list_memberships(self, operator_id: str) -> list[tuple[Website, Role]]:
        rows = await self._execute(
            select(websites, memberships.c.role)
            .join(memberships, memberships.c.website_id == websites.c.id)
            .where(memberships.c.operator_id == operator_id)
            .order_by(websites.c.name, websites.c.id)
        )
        return [(website_from(row), Role(row.role)) for row in rows]

    async def list_members(self, website_id: str) -> list[Member]:
        rows = await self._execute(
            select(operators, memberships.c.role)
            .join(memberships, memberships.c.operator_id == operators.c.id)
            .where(memberships.c.website_id == website_id)
            .order_by(operators.c.name, operators.c.id)
        )
        return [Member(operator_from(row), Role(row.role), pending=False) for row in rows]

    async def delete_membership(self, website_id: str, operator_id: str) -> bool:
        result = await self._execute(
            delete(memberships).where(
                memberships.c.website_id == website_id, memberships.c.operator_id == operator_id
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def count_owners(self, website_id: str) -> int:
        row = await self._one(
            select(func.count()).where(
                memberships.c.website_id == website_id, memberships.c.role == Role.OWNER.value
            )
        )
        return int(row[0]) if row else 0
