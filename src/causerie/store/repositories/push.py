"""`SqlPushSubscriptions`: operators' Web Push subscriptions and their choice of previews."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, insert, or_, select, update

from causerie.domain.push import PushSubscription
from causerie.store import codec
from causerie.store.db import SqlRepository
from causerie.store.schema.accounts import api_tokens, logins
from causerie.store.schema.notifications import push_preferences, push_subscriptions


class SqlPushSubscriptions(SqlRepository):
    __slots__ = ()

    async def save(self, subscription: PushSubscription) -> None:
        await self._db.execute(
            delete(push_subscriptions).where(push_subscriptions.c.endpoint == subscription.endpoint)
        )
        await self._db.execute(
            insert(push_subscriptions).values(
                id=subscription.id,
                operator_id=subscription.operator_id,
                endpoint=subscription.endpoint,
                p256dh=subscription.p256dh,
                auth=subscription.auth,
                device=subscription.device,
                created_at=subscription.created_at,
                login_id=subscription.login_id,
                token_id=subscription.token_id,
            )
        )

    async def get(self, subscription_id: str) -> PushSubscription | None:
        row = await self._db.one(
            select(push_subscriptions).where(push_subscriptions.c.id == subscription_id)
        )
        return codec.push_subscription(row) if row else None

    async def get_live(self, subscription_id: str, now: datetime) -> PushSubscription | None:
        # A bound login exists (the foreign key cascades), but may have expired since its last
        # use and not been purged yet; a revoked token's row stays.
        row = await self._db.one(
            select(push_subscriptions)
            .outerjoin(logins, logins.c.id == push_subscriptions.c.login_id)
            .outerjoin(api_tokens, api_tokens.c.id == push_subscriptions.c.token_id)
            .where(
                push_subscriptions.c.id == subscription_id,
                or_(push_subscriptions.c.login_id.is_(None), logins.c.expires_at > now),
                or_(push_subscriptions.c.token_id.is_(None), api_tokens.c.revoked_at.is_(None)),
            )
        )
        return codec.push_subscription(row) if row else None

    async def list_for_operators(self, operator_ids: Collection[str]) -> list[PushSubscription]:
        if not operator_ids:
            return []
        rows = await self._db.execute(
            select(push_subscriptions)
            .where(push_subscriptions.c.operator_id.in_(sorted(operator_ids)))
            .order_by(push_subscriptions.c.created_at, push_subscriptions.c.id)
        )
        return [codec.push_subscription(row) for row in rows]

    async def delete(self, subscription_id: str, operator_id: str | None = None) -> bool:
        statement = delete(push_subscriptions).where(push_subscriptions.c.id == subscription_id)
        if operator_id is not None:
            statement = statement.where(push_subscriptions.c.operator_id == operator_id)
        result = await self._db.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def delete_for_token(self, token_id: str) -> None:
        await self._db.execute(
            delete(push_subscriptions).where(push_subscriptions.c.token_id == token_id)
        )

    async def endpoints(self) -> list[str]:
        rows = await self._db.execute(
            select(push_subscriptions.c.endpoint).order_by(push_subscriptions.c.endpoint)
        )
        return [row[0] for row in rows]

    async def previews(self, operator_id: str) -> bool:
        row = await self._db.one(
            select(push_preferences.c.previews).where(push_preferences.c.operator_id == operator_id)
        )
        return bool(row[0]) if row else False

    async def set_previews(self, operator_id: str, on: bool) -> None:
        changed = await self._db.execute(
            update(push_preferences)
            .where(push_preferences.c.operator_id == operator_id)
            .values(previews=on)
        )
        if not changed.rowcount:  # type: ignore[attr-defined]
            await self._db.execute(
                insert(push_preferences).values(operator_id=operator_id, previews=on)
            )
