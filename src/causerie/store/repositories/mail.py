"""`SqlMailState`: operators' preferences, reply addresses, refused addresses, unsubscriptions
(docs/notifications.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from causerie.domain.mail import MailFailure, ReplyAddress
from causerie.store import codec
from causerie.store.db import SqlRepository
from causerie.store.schema.notifications import (
    mail_failures,
    mail_opt_outs,
    notification_preferences,
    reply_addresses,
)


class SqlMailState(SqlRepository):
    __slots__ = ()

    async def get_preferences(self, operator_id: str) -> dict[str, Any]:
        row = await self._db.one(
            select(notification_preferences.c.preferences).where(
                notification_preferences.c.operator_id == operator_id
            )
        )
        return dict(row[0]) if row else {}

    async def get_preferences_of(self, operator_ids: list[str]) -> dict[str, dict[str, Any]]:
        if not operator_ids:
            return {}
        rows: Any = await self._db.execute(
            select(
                notification_preferences.c.operator_id, notification_preferences.c.preferences
            ).where(notification_preferences.c.operator_id.in_(operator_ids))
        )
        return {str(row[0]): dict(row[1]) for row in rows}

    async def set_preferences(
        self, operator_id: str, values: dict[str, Any], now: datetime
    ) -> None:
        stmt = self._db.insert(notification_preferences).values(
            operator_id=operator_id, preferences=values, updated_at=now
        )
        await self._db.execute(
            stmt.on_conflict_do_update(
                index_elements=[notification_preferences.c.operator_id],
                set_={"preferences": values, "updated_at": now},
            )
        )

    async def insert_reply_address(self, address: ReplyAddress) -> None:
        await self._db.execute(
            reply_addresses.insert().values(
                token_hash=address.token_hash,
                conversation_id=address.conversation_id,
                session_id=address.session_id,
                operator_id=address.operator_id,
                created_at=address.created_at,
                expires_at=address.expires_at,
            )
        )

    async def get_reply_address(self, token_hash: str, now: datetime) -> ReplyAddress | None:
        row = await self._db.one(
            select(reply_addresses).where(
                reply_addresses.c.token_hash == token_hash, reply_addresses.c.expires_at > now
            )
        )
        return None if row is None else codec.reply_address(row)

    async def insert_failure(self, failure: MailFailure) -> None:
        await self._db.execute(
            mail_failures.insert().values(
                id=failure.id,
                website_id=failure.website_id,
                address=failure.address,
                error=failure.error,
                failed_at=failure.failed_at,
                session_id=failure.session_id,
                operator_id=failure.operator_id,
            )
        )

    async def has_failed(self, website_id: str, address: str) -> bool:
        return bool(
            await self._db.count(
                select(func.count())
                .select_from(mail_failures)
                .where(
                    mail_failures.c.website_id == website_id,
                    func.lower(mail_failures.c.address) == address.lower(),
                )
            )
        )

    async def list_failures(self, website_id: str, limit: int) -> list[MailFailure]:
        rows = await self._db.execute(
            select(mail_failures)
            .where(mail_failures.c.website_id == website_id)
            .order_by(mail_failures.c.failed_at.desc(), mail_failures.c.id)
            .limit(limit)
        )
        return [codec.mail_failure(row) for row in rows]

    async def opt_out(self, session_id: str, now: datetime) -> None:
        await self._db.execute(
            self._db.insert(mail_opt_outs)
            .values(session_id=session_id, created_at=now)
            .on_conflict_do_nothing()
        )

    async def opted_out(self, session_id: str) -> bool:
        row = await self._db.one(
            select(mail_opt_outs.c.session_id).where(mail_opt_outs.c.session_id == session_id)
        )
        return row is not None

    async def opted_out_at(self, session_id: str) -> datetime | None:
        row = await self._db.one(
            select(mail_opt_outs.c.created_at).where(mail_opt_outs.c.session_id == session_id)
        )
        return None if row is None else row[0]

    async def failures_of_session(self, session_id: str) -> list[MailFailure]:
        rows = await self._db.execute(
            select(mail_failures)
            .where(mail_failures.c.session_id == session_id)
            .order_by(mail_failures.c.failed_at, mail_failures.c.id)
        )
        return [codec.mail_failure(row) for row in rows]
