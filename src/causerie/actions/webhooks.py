"""Webhooks (docs/api.md, "Webhooks"): their management by a website's owners and admins, one
attempt of a delivery (the `webhook.deliver` job), the delivery log and redelivery.

Deliveries are queued with the change they report (actions/webhook_queue.py). Each attempt is a
job: a failed one records the attempt and queues the next, on the schedule of
`domain.webhooks.next_attempt`, for 24 hours; a webhook whose every attempt failed for a day is
disabled and the website's agents get a `webhook.disabled` event (the inbox shows it to admins).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit

from causerie.actions.access import MANAGERS, check_role
from causerie.actions.audit import do_audit
from causerie.actions.events import do_emit
from causerie.actions.jobs import RetryAt
from causerie.actions.webhook_queue import do_requeue_delivery
from causerie.domain.errors import Conflict, Invalid, NotFound, shown
from causerie.domain.events import EventType, Stream
from causerie.domain.jobs import Job, describe_error
from causerie.domain.models import Actor, Scope
from causerie.domain.ports import Tx
from causerie.domain.targets import why_host_refused, why_url_malformed
from causerie.domain.webhooks import (
    MAX_URL,
    MAX_WEBHOOKS_PER_WEBSITE,
    ROTATION_OVERLAP,
    Answer,
    Delivery,
    DeliveryRefused,
    DeliveryState,
    Webhook,
    WebhookEvent,
    headers,
    new_secret,
    next_attempt,
    should_disable,
)
from causerie.domain.wire import iso
from causerie.runtime import Runtime
from causerie.settings import Settings
from causerie.tokens import new_id

log = logging.getLogger("causerie.webhooks")

DELIVERY_LIST_LIMIT = 100
DISABLED_ERROR = "the webhook was disabled"


def _missing(webhook_id: str) -> NotFound:
    return NotFound(f"no webhook {shown(webhook_id)}", "webhook_not_found")


def check_webhook_url(url: str, settings: Settings) -> str:
    """An absolute https:// URL (http:// too with CAUSERIE_WEBHOOK_ALLOW_PRIVATE), with a host
    and no credentials. A host that is private without asking DNS (an address in any form, a
    name of the machine or a private network: domain/targets.py) is refused at once; the
    addresses a name resolves to are checked at each delivery (outbound/guard.py)."""
    url = url.strip()
    if not url or len(url) > MAX_URL:
        raise Invalid(f"url: 1 to {MAX_URL} characters", "invalid_webhook_url")
    try:
        parts = urlsplit(url)
        host = parts.hostname  # the port is checked with the rest (why_url_malformed)
    except ValueError as exc:
        raise Invalid(f"url: {exc}", "invalid_webhook_url") from None
    allowed = ("https", "http") if settings.webhook_allow_private else ("https",)
    if parts.scheme not in allowed:
        raise Invalid(
            "url: webhooks go to https:// addresses (http:// only when the server sets "
            "CAUSERIE_WEBHOOK_ALLOW_PRIVATE=true)",
            "invalid_webhook_url",
        )
    if not host:
        raise Invalid("url: no host", "invalid_webhook_url")
    malformed = why_url_malformed(url, host)
    if malformed is not None:
        raise Invalid(f"url: {malformed}", "invalid_webhook_url")
    if parts.username is not None or parts.password is not None:
        raise Invalid("url: credentials in the URL are not allowed", "invalid_webhook_url")
    if not settings.webhook_allow_private:
        reason = why_host_refused(host)
        if reason is not None:
            raise Invalid(
                f"url: {reason}, not a public target (set CAUSERIE_WEBHOOK_ALLOW_PRIVATE=true "
                "to allow private targets)",
                "webhook_target_refused",
            )
    return url


def check_events(events: list[str]) -> tuple[str, ...]:
    known = {e.value for e in WebhookEvent}
    unknown = sorted(set(events) - known)
    if unknown:
        raise Invalid(
            f"events: unknown {', '.join(unknown)}; known: {', '.join(WebhookEvent)}",
            "unknown_event",
        )
    if not events:
        raise Invalid("events: at least one", "unknown_event")
    return tuple(e.value for e in WebhookEvent if e.value in events)


async def _manageable(tx: Tx, actor: Actor, webhook_id: str, scope: Scope) -> Webhook:
    webhook = await tx.webhooks.get(webhook_id)
    if webhook is None:
        raise _missing(webhook_id)
    await check_role(tx, actor, webhook.website_id, MANAGERS, scope, missing=_missing(webhook_id))
    return webhook


async def do_create_webhook(
    rt: Runtime, actor: Actor, website_id: str, *, url: str, events: list[str]
) -> tuple[Webhook, str]:
    """A new webhook and its secret (shown this once; owners and admins)."""
    checked_url = check_webhook_url(url, rt.settings)
    checked_events = check_events(events)
    async with rt.store.transaction() as tx:
        missing = NotFound(f"no website {shown(website_id)}", "website_not_found")
        if await tx.websites.get(website_id) is None:
            raise missing
        await check_role(tx, actor, website_id, MANAGERS, Scope.WRITE, missing=missing)
        await tx.websites.lock(website_id)  # creations counted one after the other
        if len(await tx.webhooks.list_for_website(website_id)) >= MAX_WEBHOOKS_PER_WEBSITE:
            raise Conflict(
                f"a website has at most {MAX_WEBHOOKS_PER_WEBSITE} webhooks", "too_many_webhooks"
            )
        webhook = Webhook(
            id=new_id(),
            website_id=website_id,
            url=checked_url,
            events=checked_events,
            secret=new_secret(),
            created_at=rt.clock.now(),
        )
        await tx.webhooks.insert(webhook)
        await do_audit(
            rt,
            tx,
            actor,
            "webhook.create",
            target_type="webhook",
            target_id=webhook.id,
            website_id=website_id,
        )
    return webhook, webhook.secret


async def get_webhooks(rt: Runtime, actor: Actor, website_id: str) -> list[Webhook]:
    async with rt.store.read() as tx:
        missing = NotFound(f"no website {shown(website_id)}", "website_not_found")
        await check_role(tx, actor, website_id, MANAGERS, Scope.READ, missing=missing)
        return await tx.webhooks.list_for_website(website_id)


async def get_webhook(rt: Runtime, actor: Actor, webhook_id: str) -> Webhook:
    async with rt.store.read() as tx:
        return await _manageable(tx, actor, webhook_id, Scope.READ)


async def do_update_webhook(
    rt: Runtime,
    actor: Actor,
    webhook_id: str,
    *,
    url: str | None = None,
    events: list[str] | None = None,
    enabled: bool | None = None,
) -> Webhook:
    """Change the URL, the events, or enable/disable. Enabling again starts afresh: its failures
    are forgotten."""
    checked_url = None if url is None else check_webhook_url(url, rt.settings)
    checked_events = None if events is None else check_events(events)
    async with rt.store.transaction() as tx:
        webhook = await _manageable(tx, actor, webhook_id, Scope.WRITE)
        # Read again behind its website's lock: a field left out keeps what a change at the
        # same moment wrote (docs/api.md, "Changes at once").
        await tx.websites.lock(webhook.website_id)
        fresh = await tx.webhooks.get(webhook_id)
        if fresh is None:  # deleted meanwhile
            raise _missing(webhook_id)
        webhook = fresh
        changed = replace(
            webhook,
            url=checked_url or webhook.url,
            events=checked_events or webhook.events,
        )
        if enabled is True and not webhook.enabled:
            changed = replace(changed, enabled=True, failing_since=None, disabled_at=None)
        elif enabled is False and webhook.enabled:
            changed = replace(changed, enabled=False, disabled_at=rt.clock.now())
            await tx.webhooks.fail_pending(webhook.id, DISABLED_ERROR)
        await tx.webhooks.save(changed)
        await do_audit(
            rt,
            tx,
            actor,
            "webhook.update",
            target_type="webhook",
            target_id=webhook.id,
            website_id=webhook.website_id,
        )
    return changed


async def do_delete_webhook(rt: Runtime, actor: Actor, webhook_id: str) -> None:
    """The webhook and its delivery log go."""
    async with rt.store.transaction() as tx:
        webhook = await _manageable(tx, actor, webhook_id, Scope.WRITE)
        await tx.webhooks.delete(webhook.id)
        await do_audit(
            rt,
            tx,
            actor,
            "webhook.delete",
            target_type="webhook",
            target_id=webhook.id,
            website_id=webhook.website_id,
        )


async def do_rotate_secret(rt: Runtime, actor: Actor, webhook_id: str) -> tuple[Webhook, str]:
    """A new secret (shown this once); the old one signs beside it for ROTATION_OVERLAP, so that
    receivers can switch without losing a delivery."""
    async with rt.store.transaction() as tx:
        webhook = await _manageable(tx, actor, webhook_id, Scope.WRITE)
        rotated = replace(
            webhook,
            secret=new_secret(),
            previous_secret=webhook.secret,
            previous_until=rt.clock.now() + ROTATION_OVERLAP,
        )
        await tx.webhooks.save(rotated)
        await do_audit(
            rt,
            tx,
            actor,
            "webhook.rotate_secret",
            target_type="webhook",
            target_id=webhook.id,
            website_id=webhook.website_id,
        )
    return rotated, rotated.secret


async def get_deliveries(rt: Runtime, actor: Actor, webhook_id: str) -> list[Delivery]:
    """The delivery log: the latest deliveries, newest first."""
    async with rt.store.read() as tx:
        webhook = await _manageable(tx, actor, webhook_id, Scope.READ)
        return await tx.webhooks.list_deliveries(webhook.id, DELIVERY_LIST_LIMIT)


async def do_redeliver(rt: Runtime, actor: Actor, webhook_id: str, delivery_id: str) -> Delivery:
    """Send a delivery again now, the same body under the same `webhook-id`, by its own job
    (a failed one runs again); its retry window starts afresh (its attempts go on counting, for
    the log)."""
    async with rt.store.transaction() as tx:
        webhook = await _manageable(tx, actor, webhook_id, Scope.WRITE)
        delivery = await tx.webhooks.get_delivery(delivery_id)
        if delivery is None or delivery.webhook_id != webhook.id:
            raise NotFound(f"no delivery {shown(delivery_id)}", "delivery_not_found")
        if not webhook.enabled:
            raise Conflict("the webhook is disabled: enable it first", "webhook_disabled")
        now = rt.clock.now()
        again = replace(delivery, state=DeliveryState.PENDING, next_attempt_at=now)
        await tx.webhooks.save_delivery(again)
        # The retry window counts from the redelivery: the row's creation time stays for the
        # log, the job carries the window's start. The delivery's own job runs again.
        await do_requeue_delivery(rt, tx, again)
    return again


# one attempt (the `webhook.deliver` job)


@dataclass(frozen=True)
class _Outcome:
    answer: Answer | None
    error: str | None


async def _attempt(rt: Runtime, webhook: Webhook, delivery: Delivery) -> _Outcome:
    now = rt.clock.now()
    sent_headers = headers(
        webhook.signing_secrets(now), delivery.id, int(now.timestamp()), delivery.body
    )
    try:
        answer = await rt.outbound.post(
            webhook.url,
            sent_headers,
            delivery.body.encode(),
            rt.settings.webhook_timeout.total_seconds(),
        )
    except DeliveryRefused as exc:
        return _Outcome(None, f"refused: {exc}")
    except TimeoutError:
        return _Outcome(None, f"no answer within {rt.settings.webhook_timeout.total_seconds():g} s")
    except Exception as exc:  # the transport's errors: the attempt failed, it is retried
        return _Outcome(None, describe_error(exc))
    if answer.ok:
        return _Outcome(answer, None)
    return _Outcome(answer, f"answered {answer.status_code}")


async def run_delivery(rt: Runtime, job: Job) -> None:
    """One attempt of the delivery `job.payload["delivery_id"]`. Harmless when repeated: a
    delivered or erased delivery is left alone.

    A delivery is one job throughout: a failed attempt raises `RetryAt`, which requeues the job
    at the next attempt of the webhook's 24-hour schedule (its attempts and last error as
    `causerie jobs list` shows them), and marks it `failed` when the delivery is given up. A
    failed delivery's job run again (`causerie jobs retry`) makes one more attempt."""
    delivery_id = str(job.payload.get("delivery_id", ""))
    async with rt.store.read() as tx:
        delivery = await tx.webhooks.get_delivery(delivery_id)
        webhook = await tx.webhooks.get(delivery.webhook_id) if delivery else None
    if delivery is None or webhook is None or not webhook.enabled:
        return
    if delivery.state is DeliveryState.DELIVERED:
        return
    if delivery.state is DeliveryState.FAILED and job.attempts > delivery.attempts:
        # Given up meanwhile (its webhook was disabled): only a job run again by hand, whose
        # attempts started afresh, sends it once more.
        return
    outcome = await _attempt(rt, webhook, delivery)
    now = rt.clock.now()
    answer = outcome.answer
    done = replace(
        delivery,
        attempts=delivery.attempts + 1,
        last_attempt_at=now,
        status_code=answer.status_code if answer else None,
        latency_ms=answer.latency_ms if answer else None,
        answer_head=answer.head if answer else None,
        error=outcome.error,
    )
    async with rt.store.transaction() as tx:
        current = await tx.webhooks.get_delivery(delivery.id)
        fresh = await tx.webhooks.get(webhook.id)
        if current is None or fresh is None or current.state is not delivery.state:
            return  # erased, deleted or handled meanwhile
        if outcome.error is None:
            await tx.webhooks.save_delivery(
                replace(done, state=DeliveryState.DELIVERED, next_attempt_at=None)
            )
            if fresh.failing_since is not None:
                await tx.webhooks.save(replace(fresh, failing_since=None))
            return
        window_from = _window_start(job, delivery)
        retry_at = next_attempt(window_from, done.attempts, now)
        if retry_at is None:
            done = replace(done, state=DeliveryState.FAILED, next_attempt_at=None)
        else:
            done = replace(done, next_attempt_at=retry_at)
        await tx.webhooks.save_delivery(done)
        failing = fresh if fresh.failing_since else replace(fresh, failing_since=now)
        if should_disable(failing, now):
            await _disable(rt, tx, failing)
            retry_at = None
        elif failing is not fresh:
            await tx.webhooks.save(failing)
    log.info(
        "webhook %s: delivery %s attempt %d failed: %s",
        webhook.id,
        delivery.id,
        done.attempts,
        outcome.error,
    )
    # After the commit: the attempt stays recorded in the delivery log whatever the job does.
    raise RetryAt(outcome.error or "failed", retry_at)


def _window_start(job: Job, delivery: Delivery) -> datetime:
    raw = job.payload.get("window_from")
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            pass
    return delivery.created_at


async def _disable(rt: Runtime, tx: Tx, webhook: Webhook) -> None:
    """A day of failures: the webhook stops, its pending deliveries are given up, and the
    website's agents hear of it (`webhook.disabled`; the inbox tells its admins)."""
    now = rt.clock.now()
    disabled = replace(webhook, enabled=False, disabled_at=now)
    await tx.webhooks.save(disabled)
    await tx.webhooks.fail_pending(webhook.id, DISABLED_ERROR)
    notice = {"webhook": {"id": webhook.id, "disabled_at": iso(now)}}
    await do_emit(
        rt,
        tx,
        Stream.of_website(webhook.website_id),
        EventType.WEBHOOK_DISABLED,
        webhook.id,
        notice,
        session_id=None,
        data=notice,
    )
    await do_audit(
        rt,
        tx,
        Actor.system(),
        "webhook.disable",
        target_type="webhook",
        target_id=webhook.id,
        website_id=webhook.website_id,
    )
    log.warning("webhook %s disabled after a day of failed deliveries", webhook.id)
