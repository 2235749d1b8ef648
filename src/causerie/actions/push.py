"""Web Push for agents (docs/notifications.md, "Push"): an operator's browsers subscribe and
unsubscribe, choose previews, and the `push.send` job delivers one push to one browser."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from causerie.domain.errors import Forbidden, NotFound, Unauthenticated, shown
from causerie.domain.jobs import Job
from causerie.domain.models import Actor, Scope
from causerie.domain.push import (
    PUSH_TTL,
    SUBSCRIPTIONS_MAX,
    PushReason,
    PushSubscription,
    check_subscription,
    device_label,
    push_payload,
)
from causerie.runtime import Runtime
from causerie.tokens import new_id

log = logging.getLogger("causerie.push")


class PushFailed(Exception):
    """The push service answered with something other than success or "gone": retried."""


def _own(actor: Actor, *, write: bool) -> str:
    if actor.operator_id is None:
        raise Unauthenticated("authentication required")
    if write and Scope.WRITE not in actor.scopes:
        raise Forbidden("this token lacks the 'write' scope", "insufficient_scope")
    return actor.operator_id


def get_push_key(rt: Runtime) -> str:
    """The VAPID application server key browsers subscribe with."""
    return rt.push.public_key


async def do_subscribe(
    rt: Runtime, actor: Actor, *, endpoint: str, p256dh: str, auth: str, user_agent: str
) -> PushSubscription:
    """Store one of the caller's browsers, bound to the caller's login or API token: it goes
    with that credential. The same browser subscribing again replaces its subscription
    (whoever had it: one browser, one operator); past `SUBSCRIPTIONS_MAX` browsers, the
    caller's oldest goes."""
    operator_id = _own(actor, write=True)
    endpoint, p256dh, auth = check_subscription(
        endpoint, p256dh, auth, allow_private=rt.settings.push_allow_private
    )
    subscription = PushSubscription(
        id=new_id(),
        operator_id=operator_id,
        endpoint=endpoint,
        p256dh=p256dh,
        auth=auth,
        device=device_label(user_agent),
        created_at=rt.clock.now(),
        login_id=actor.login_id,
        token_id=actor.token_id,
    )
    async with rt.store.transaction() as tx:
        await tx.push.save(subscription)
        mine = await tx.push.list_for_operators([operator_id])
        for old in mine[: max(0, len(mine) - SUBSCRIPTIONS_MAX)]:
            await tx.push.delete(old.id)
    return subscription


async def get_subscriptions(rt: Runtime, actor: Actor) -> list[PushSubscription]:
    operator_id = _own(actor, write=False)
    async with rt.store.read() as tx:
        return await tx.push.list_for_operators([operator_id])


async def do_unsubscribe(rt: Runtime, actor: Actor, subscription_id: str) -> None:
    """Remove one of the caller's browsers; another operator's answers 404 as a missing one."""
    operator_id = _own(actor, write=True)
    async with rt.store.transaction() as tx:
        if not await tx.push.delete(subscription_id, operator_id):
            raise NotFound(
                f"no push subscription {shown(subscription_id)}", "subscription_not_found"
            )


async def get_push_previews(rt: Runtime, actor: Actor) -> bool:
    operator_id = _own(actor, write=False)
    async with rt.store.read() as tx:
        return await tx.push.previews(operator_id)


async def do_set_push_previews(rt: Runtime, actor: Actor, on: bool) -> bool:
    operator_id = _own(actor, write=True)
    async with rt.store.transaction() as tx:
        await tx.push.set_previews(operator_id, on)
    return on


@dataclass(frozen=True)
class _Push:
    subscription: PushSubscription
    payload: dict[str, object]


async def _prepare(rt: Runtime, job: Job) -> _Push | None:
    """What job `push.send` sends, read now: nothing when the browser unsubscribed, its login
    expired (or its token was revoked), the conversation is gone, or the operator left its
    website since the job was queued."""
    reason = PushReason(job.payload["reason"])
    async with rt.store.read() as tx:
        subscription = await tx.push.get_live(job.payload["subscription_id"], rt.clock.now())
        if subscription is None:
            return None
        conversation = await tx.conversations.get(job.payload["conversation_id"])
        if conversation is None:
            return None
        website = await tx.websites.get(conversation.website_id)
        role = await tx.members.get_role(subscription.operator_id, conversation.website_id)
        if website is None or role is None:
            return None
        preview = None
        if await tx.push.previews(subscription.operator_id):
            message = await tx.messages.get(conversation.id, job.payload["message_id"])
            preview = message.body if message is not None else None
    payload = push_payload(
        reason,
        website_id=website.id,
        website_name=website.name,
        conversation_id=conversation.id,
        preview=preview,
    )
    return _Push(subscription, payload)


async def do_send_push(rt: Runtime, job: Job) -> None:
    """Job `push.send`: one push to one browser. A push service answering 404 or 410 (or an
    endpoint the settings refuse) drops the subscription; any other failure raises, and the
    job is retried with backoff."""
    push = await _prepare(rt, job)
    if push is None:
        return
    body = json.dumps(push.payload, separators=(",", ":")).encode("utf-8")
    outcome = await rt.push.send(push.subscription, body, PUSH_TTL)
    if outcome.gone:
        async with rt.store.transaction() as tx:
            await tx.push.delete(push.subscription.id)
        log.info(
            "push subscription %s dropped: %s %s",
            push.subscription.id,
            outcome.status or "refused",
            outcome.reason,
        )
    elif not outcome.delivered:
        raise PushFailed(f"the push service answered {outcome.status} {outcome.reason}".strip())
