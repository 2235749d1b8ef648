"""`SqlWebhooks`: the domain's `Webhooks` repository (domain/repositories/webhooks.py) on both
databases. The list of a website's webhooks is read on every event that may be delivered, so it
is a statement built once (store/db.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update

from causerie.domain.webhooks import Delivery, DeliveryState, Webhook
from causerie.store.db import Prepared, Query, SqlRepository
from causerie.store.schema.notifications import webhook_deliveries, webhooks

_W = {c.name: i for i, c in enumerate(webhooks.c)}
_D = {c.name: i for i, c in enumerate(webhook_deliveries.c)}


def _webhook(row: Sequence[Any]) -> Webhook:
    return Webhook(
        id=row[_W["id"]],
        website_id=row[_W["website_id"]],
        url=row[_W["url"]],
        events=tuple(row[_W["events"]] or ()),
        secret=row[_W["secret"]],
        created_at=row[_W["created_at"]],
        enabled=bool(row[_W["enabled"]]),
        previous_secret=row[_W["previous_secret"]],
        previous_until=row[_W["previous_until"]],
        failing_since=row[_W["failing_since"]],
        disabled_at=row[_W["disabled_at"]],
    )


def _delivery(row: Sequence[Any]) -> Delivery:
    return Delivery(
        id=row[_D["id"]],
        webhook_id=row[_D["webhook_id"]],
        event_type=row[_D["event_type"]],
        body=row[_D["body"]],
        created_at=row[_D["created_at"]],
        session_id=row[_D["session_id"]],
        state=DeliveryState(row[_D["state"]]),
        attempts=row[_D["attempts"]],
        next_attempt_at=row[_D["next_attempt_at"]],
        last_attempt_at=row[_D["last_attempt_at"]],
        status_code=row[_D["status_code"]],
        latency_ms=row[_D["latency_ms"]],
        error=row[_D["error"]],
        answer_head=row[_D["answer_head"]],
    )


WEBHOOKS_OF_WEBSITE = Query(
    select(webhooks)
    .where(webhooks.c.website_id == bindparam("website"))
    .order_by(webhooks.c.created_at, webhooks.c.id),
    _webhook,
)

# Built once, so that `Db` knows its table: a message's delivery does not flush the writes its
# transaction holds back (store/pending.py).
_INSERT_DELIVERY = Prepared(
    webhook_deliveries.insert().values({c.name: bindparam(c.name) for c in webhook_deliveries.c})
)

_MUTABLE = (
    "url",
    "events",
    "secret",
    "previous_secret",
    "previous_until",
    "enabled",
    "failing_since",
    "disabled_at",
)
_ATTEMPT = (
    "state",
    "attempts",
    "next_attempt_at",
    "last_attempt_at",
    "status_code",
    "latency_ms",
    "error",
    "answer_head",
)


def _webhook_values(webhook: Webhook) -> dict[str, Any]:
    values = {name: getattr(webhook, name) for name in _MUTABLE}
    values["events"] = list(webhook.events)
    return values


def _attempt_values(delivery: Delivery) -> dict[str, Any]:
    values = {name: getattr(delivery, name) for name in _ATTEMPT}
    values["state"] = delivery.state.value
    return values


class SqlWebhooks(SqlRepository):
    async def insert(self, webhook: Webhook) -> None:
        await self._db.execute(
            webhooks.insert().values(
                id=webhook.id,
                website_id=webhook.website_id,
                created_at=webhook.created_at,
                **_webhook_values(webhook),
            )
        )

    async def get(self, webhook_id: str) -> Webhook | None:
        row = await self._db.one(select(webhooks).where(webhooks.c.id == webhook_id))
        return None if row is None else _webhook(row)

    async def list_for_website(self, website_id: str) -> list[Webhook]:
        # Read once per transaction: a batch of messages asks for every one of them.
        return await self._db.fetch_all_kept(WEBHOOKS_OF_WEBSITE, {"website": website_id})

    async def save(self, webhook: Webhook) -> None:
        await self._db.execute(
            update(webhooks).where(webhooks.c.id == webhook.id).values(**_webhook_values(webhook))
        )

    async def delete(self, webhook_id: str) -> bool:
        result = await self._db.execute(delete(webhooks).where(webhooks.c.id == webhook_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def insert_deliveries(self, deliveries: list[Delivery]) -> None:
        if not deliveries:
            return
        await self._db.write_many(
            _INSERT_DELIVERY,
            [
                {
                    "id": d.id,
                    "webhook_id": d.webhook_id,
                    "session_id": d.session_id,
                    "event_type": d.event_type,
                    "body": d.body,
                    "created_at": d.created_at,
                    **_attempt_values(d),
                }
                for d in deliveries
            ],
        )

    async def get_delivery(self, delivery_id: str) -> Delivery | None:
        row = await self._db.one(
            select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)
        )
        return None if row is None else _delivery(row)

    async def list_deliveries(self, webhook_id: str, limit: int) -> list[Delivery]:
        rows = await self._db.execute(
            select(webhook_deliveries)
            .where(webhook_deliveries.c.webhook_id == webhook_id)
            .order_by(webhook_deliveries.c.created_at.desc(), webhook_deliveries.c.id.desc())
            .limit(limit)
        )
        return [_delivery(row) for row in rows]

    async def save_delivery(self, delivery: Delivery) -> None:
        await self._db.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery.id)
            .values(**_attempt_values(delivery))
        )

    async def fail_pending(self, webhook_id: str, error: str) -> int:
        result = await self._db.execute(
            update(webhook_deliveries)
            .where(
                webhook_deliveries.c.webhook_id == webhook_id,
                webhook_deliveries.c.state == DeliveryState.PENDING.value,
            )
            .values(state=DeliveryState.FAILED.value, next_attempt_at=None, error=error)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def delete_deliveries_before(self, cutoff: datetime) -> int:
        result = await self._db.execute(
            delete(webhook_deliveries).where(webhook_deliveries.c.created_at < cutoff)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
