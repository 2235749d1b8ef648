"""Web Push over HTTP (docs/notifications.md, "Push"; docs/api.md): the VAPID key, the caller's
browsers' subscriptions, and their choice of previews. Each route acts on the caller's own
account."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from causerie.actions.push import (
    do_set_push_previews,
    do_subscribe,
    do_unsubscribe,
    get_push_key,
    get_push_previews,
    get_subscriptions,
)
from causerie.domain.wire import push_subscription_json
from causerie.web.api_models import ERRORS
from causerie.web.api_models.push import (
    PushKeyOut,
    PushPreferencesIn,
    PushPreferencesOut,
    PushSubscriptionBody,
    PushSubscriptionIn,
    PushSubscriptionsOut,
)
from causerie.web.deps import CurrentActor, Rt
from causerie.web.lean_route import LeanRoute
from causerie.web.routes import access

router = APIRouter(prefix="/api/v1/push", tags=["push"], responses=ERRORS, route_class=LeanRoute)
Json = dict[str, Any]


@router.get(
    "/key",
    response_model=PushKeyOut,
    summary="The VAPID application server key browsers subscribe with",
    openapi_extra=access("login", "read"),
)
async def push_key(rt: Rt, actor: CurrentActor) -> Json:
    return {"public_key": get_push_key(rt)}


@router.get(
    "/subscriptions",
    response_model=PushSubscriptionsOut,
    summary="The caller's browsers that receive pushes",
    openapi_extra=access("login", "read"),
)
async def list_subscriptions(rt: Rt, actor: CurrentActor) -> Json:
    subscriptions = await get_subscriptions(rt, actor)
    return {"subscriptions": [push_subscription_json(s) for s in subscriptions]}


@router.post(
    "/subscriptions",
    status_code=201,
    response_model=PushSubscriptionBody,
    summary="Subscribe one of the caller's browsers (its PushSubscription JSON) to pushes",
    openapi_extra=access("login", "write"),
)
async def subscribe(
    body: PushSubscriptionIn, request: Request, rt: Rt, actor: CurrentActor
) -> Json:
    subscription = await do_subscribe(
        rt,
        actor,
        endpoint=body.endpoint,
        p256dh=body.keys.p256dh,
        auth=body.keys.auth,
        user_agent=request.headers.get("user-agent", "")[:512],
    )
    return {"subscription": push_subscription_json(subscription)}


@router.delete(
    "/subscriptions/{subscription_id}",
    status_code=204,
    summary="Stop pushes to one of the caller's browsers",
    openapi_extra=access("login", "write"),
)
async def unsubscribe(subscription_id: str, rt: Rt, actor: CurrentActor) -> Response:
    await do_unsubscribe(rt, actor, subscription_id)
    return Response(status_code=204)


@router.get(
    "/preferences",
    response_model=PushPreferencesOut,
    summary="Whether the caller's pushes show message text (off unless chosen)",
    openapi_extra=access("login", "read"),
)
async def preferences(rt: Rt, actor: CurrentActor) -> Json:
    return {"push_previews": await get_push_previews(rt, actor)}


@router.patch(
    "/preferences",
    response_model=PushPreferencesOut,
    summary="Choose whether the caller's pushes show message text",
    openapi_extra=access("login", "write"),
)
async def set_preferences(body: PushPreferencesIn, rt: Rt, actor: CurrentActor) -> Json:
    return {"push_previews": await do_set_push_previews(rt, actor, body.push_previews)}
