"""Queueing webhook deliveries in the transaction of the change they report (docs/api.md,
"Webhooks"): one delivery row and one job per subscribed webhook, so a delivery exists exactly
when its change does. The sending is in actions/webhooks.py. The same events go to plugins once
the change commits (docs/plugins.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from causerie.actions.jobs import do_enqueue
from causerie.domain.jobs import JobKind
from causerie.domain.ports import Tx
from causerie.domain.webhooks import ID_PREFIX, Delivery, WebhookEvent
from causerie.domain.wire import iso
from causerie.runtime import Runtime
from causerie.tokens import new_id


@dataclass(frozen=True, slots=True)
class Occurrence:
    """An event of the webhook catalogue on one website; `session_id` is the person it is about
    (None for the erasure events, which hold no personal data and must outlive the person)."""

    website_id: str
    type: str
    data: dict[str, Any]
    session_id: str | None


def body_of(type_: str, timestamp: str, data: dict[str, Any]) -> str:
    return json.dumps(
        {"type": type_, "timestamp": timestamp, "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
    )


async def do_queue_webhooks(rt: Runtime, tx: Tx, occurrences: list[Occurrence]) -> int:
    """A delivery for each occurrence and each enabled webhook of its website that wants it;
    how many were queued. One read of the website's webhooks per website."""
    if not occurrences:
        return 0
    if rt.plugins.wants_events:
        committed = list(occurrences)
        tx.on_commit(lambda: rt.plugins.dispatch(rt, committed))
    now = rt.clock.now()
    stamp = iso(now)
    assert stamp is not None
    deliveries: list[Delivery] = []
    by_website: dict[str, list[Any]] = {}
    for occurrence in occurrences:
        if occurrence.website_id not in by_website:
            by_website[occurrence.website_id] = await tx.webhooks.list_for_website(
                occurrence.website_id
            )
        for webhook in by_website[occurrence.website_id]:
            if webhook.wants(occurrence.type):
                deliveries.append(
                    Delivery(
                        id=ID_PREFIX + new_id(),
                        webhook_id=webhook.id,
                        event_type=occurrence.type,
                        body=body_of(occurrence.type, stamp, occurrence.data),
                        created_at=now,
                        session_id=occurrence.session_id,
                        next_attempt_at=now,
                    )
                )
    if not deliveries:
        return 0
    await tx.webhooks.insert_deliveries(deliveries)
    for delivery in deliveries:
        await do_enqueue_delivery(rt, tx, delivery)
    return len(deliveries)


async def do_enqueue_delivery(
    rt: Runtime, tx: Tx, delivery: Delivery, *, window_from: datetime | None = None
) -> None:
    """The job of the delivery's next attempt, due at its `next_attempt_at` (now if unset).
    `window_from`: when its retry window started (a redelivery's time; else its creation)."""
    now = rt.clock.now()
    due = delivery.next_attempt_at or now
    await do_enqueue(
        rt,
        tx,
        JobKind.WEBHOOK_DELIVER,
        delay=max(due - now, timedelta(0)),
        session_id=delivery.session_id,
        payload=_payload(delivery, window_from),
    )


async def do_requeue_delivery(rt: Runtime, tx: Tx, delivery: Delivery) -> None:
    """The delivery's job (queued, or failed once given up) runs again now, its attempts and
    retry window afresh, so that `causerie jobs list --state failed` no longer shows a delivery
    sent again; a new job when it has none (it was delivered) or its attempt is under way."""
    now = rt.clock.now()
    payload = _payload(delivery, now)
    found = await tx.jobs.of_payload(
        JobKind.WEBHOOK_DELIVER, "delivery_id", delivery.id, session_id=delivery.session_id
    )
    for job in found:
        if await tx.jobs.run_now(job.id, now, payload):
            return
    await do_enqueue_delivery(rt, tx, delivery, window_from=now)


def _payload(delivery: Delivery, window_from: datetime | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"delivery_id": delivery.id}
    if window_from is not None:
        payload["window_from"] = iso(window_from)
    return payload


async def do_queue_erasure(
    rt: Runtime,
    tx: Tx,
    website_id: str,
    session_id: str,
    conversation_id: str | None,
    *,
    erased: bool,
) -> None:
    """Tell the website's webhooks that a conversation was deleted (P20) and, for a data-subject
    erasure, that the session was erased (P9): ids only, so that recipients erase their copies.
    Deliveries still pending about that session went with it (the foreign key cascades)."""
    occurrences = []
    if conversation_id is not None:
        data = {"conversation_id": conversation_id, "session_id": session_id}
        occurrences.append(Occurrence(website_id, WebhookEvent.CONVERSATION_DELETED, data, None))
    if erased:
        erasure: dict[str, Any] = {"session_id": session_id, "conversation_id": conversation_id}
        occurrences.append(Occurrence(website_id, WebhookEvent.SESSION_ERASED, erasure, None))
    await do_queue_webhooks(rt, tx, occurrences)
