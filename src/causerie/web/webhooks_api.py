"""Webhooks of a website (`/api/v1/websites/{id}/webhooks`, `/api/v1/webhooks/...`): owners
and admins manage them, read their delivery log and redeliver. See docs/api.md, "Webhooks".

Each route names the access it needs (`web/routes.py`); the actions enforce it.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from causerie.actions.webhooks import (
    do_create_webhook,
    do_delete_webhook,
    do_redeliver,
    do_rotate_secret,
    do_update_webhook,
    get_deliveries,
    get_webhook,
    get_webhooks,
)
from causerie.domain.wire import delivery_json, webhook_json
from causerie.web.api_models import ERRORS
from causerie.web.api_models.webhooks import (
    DeliveriesOut,
    DeliveryBody,
    RotateIn,
    WebhookBody,
    WebhookCreatedOut,
    WebhookIn,
    WebhookPatch,
    WebhooksOut,
)
from causerie.web.deps import CurrentActor, Rt
from causerie.web.lean_route import LeanRoute
from causerie.web.routes import access

router = APIRouter(prefix="/api/v1", tags=["webhooks"], responses=ERRORS, route_class=LeanRoute)

Json = dict[str, object]


@router.get(
    "/websites/{website_id}/webhooks",
    response_model=WebhooksOut,
    summary="The website's webhooks (never their secrets)",
    openapi_extra=access("admin"),
)
async def list_webhooks(website_id: str, rt: Rt, actor: CurrentActor) -> Json:
    return {"webhooks": [webhook_json(w) for w in await get_webhooks(rt, actor, website_id)]}


@router.post(
    "/websites/{website_id}/webhooks",
    status_code=201,
    response_model=WebhookCreatedOut,
    summary="Add a webhook; its signing secret is shown this once",
    openapi_extra=access("admin"),
)
async def create_webhook(website_id: str, body: WebhookIn, rt: Rt, actor: CurrentActor) -> Json:
    webhook, secret = await do_create_webhook(
        rt, actor, website_id, url=body.url, events=list(body.events)
    )
    return {"webhook": webhook_json(webhook), "secret": secret}


@router.get(
    "/webhooks/{webhook_id}",
    response_model=WebhookBody,
    summary="A webhook",
    openapi_extra=access("admin"),
)
async def read_webhook(webhook_id: str, rt: Rt, actor: CurrentActor) -> Json:
    return {"webhook": webhook_json(await get_webhook(rt, actor, webhook_id))}


@router.patch(
    "/webhooks/{webhook_id}",
    response_model=WebhookBody,
    summary="Change a webhook's URL or events, or disable or enable it",
    openapi_extra=access("admin"),
)
async def update_webhook(webhook_id: str, body: WebhookPatch, rt: Rt, actor: CurrentActor) -> Json:
    webhook = await do_update_webhook(
        rt,
        actor,
        webhook_id,
        url=body.url,
        events=None if body.events is None else list(body.events),
        enabled=body.enabled,
    )
    return {"webhook": webhook_json(webhook)}


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=204,
    summary="Delete a webhook and its delivery log",
    openapi_extra=access("admin"),
)
async def delete_webhook(webhook_id: str, rt: Rt, actor: CurrentActor) -> Response:
    await do_delete_webhook(rt, actor, webhook_id)
    return Response(status_code=204)


@router.post(
    "/webhooks/{webhook_id}/rotate",
    response_model=WebhookCreatedOut,
    summary="A new signing secret, shown this once; the old one signs too for 24 hours",
    openapi_extra=access("admin"),
)
async def rotate_secret(
    webhook_id: str, rt: Rt, actor: CurrentActor, body: RotateIn | None = None
) -> Json:
    webhook, secret = await do_rotate_secret(rt, actor, webhook_id)
    return {"webhook": webhook_json(webhook), "secret": secret}


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=DeliveriesOut,
    summary="The delivery log: the latest 100 deliveries, newest first",
    openapi_extra=access("admin"),
)
async def list_deliveries(webhook_id: str, rt: Rt, actor: CurrentActor) -> Json:
    deliveries = await get_deliveries(rt, actor, webhook_id)
    return {"deliveries": [delivery_json(d) for d in deliveries]}


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryBody,
    summary="Send a delivery again now, under the same webhook-id",
    openapi_extra=access("admin"),
)
async def redeliver(webhook_id: str, delivery_id: str, rt: Rt, actor: CurrentActor) -> Json:
    delivery = await do_redeliver(rt, actor, webhook_id, delivery_id)
    return {"delivery": delivery_json(delivery)}
