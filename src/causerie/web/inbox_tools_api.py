"""`/api/v1` routes of the inbox's daily tools: canned replies and labels of a website, and the
labels and plugins' reply variables of a conversation. See docs/api.md "Canned replies and
labels" and docs/inbox.md.

Each route names the access it needs (`web/routes.py`); the actions enforce it.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from causerie.actions.labels import (
    do_create_label,
    do_delete_label,
    do_set_labels,
    do_update_label,
    get_labels,
)
from causerie.actions.replies import (
    do_create_reply,
    do_delete_reply,
    do_update_reply,
    get_replies,
    get_reply_variables,
)
from causerie.domain.wire import conversation_json, label_json, reply_json
from causerie.web.api_models import ERRORS, ConversationBody
from causerie.web.api_models.inbox_tools import (
    ConversationLabelsIn,
    LabelBody,
    LabelIn,
    LabelPatch,
    LabelsOut,
    RepliesOut,
    ReplyBody,
    ReplyIn,
    ReplyPatch,
    ReplyVariablesOut,
)
from causerie.web.deps import CurrentActor, Rt
from causerie.web.lean_route import LeanRoute
from causerie.web.routes import access

router = APIRouter(prefix="/api/v1", tags=["agent"], responses=ERRORS, route_class=LeanRoute)

Json = dict[str, object]


# canned replies


@router.get(
    "/websites/{website_id}/replies",
    response_model=RepliesOut,
    summary="The website's canned replies, by shortcut",
    openapi_extra=access("agent"),
)
async def list_replies(website_id: str, rt: Rt, actor: CurrentActor) -> Json:
    return {"replies": [reply_json(r) for r in await get_replies(rt, actor, website_id)]}


@router.post(
    "/websites/{website_id}/replies",
    status_code=201,
    response_model=ReplyBody,
    summary="Add a canned reply (its shortcut unique on the website)",
    openapi_extra=access("admin"),
)
async def create_reply(website_id: str, body: ReplyIn, rt: Rt, actor: CurrentActor) -> Json:
    reply = await do_create_reply(
        rt, actor, website_id, shortcut=body.shortcut, title=body.title, body=body.body
    )
    return {"reply": reply_json(reply)}


@router.patch(
    "/websites/{website_id}/replies/{reply_id}",
    response_model=ReplyBody,
    summary="Change a canned reply's shortcut, title or body",
    openapi_extra=access("admin"),
)
async def update_reply(
    website_id: str, reply_id: str, body: ReplyPatch, rt: Rt, actor: CurrentActor
) -> Json:
    reply = await do_update_reply(
        rt, actor, website_id, reply_id, shortcut=body.shortcut, title=body.title, body=body.body
    )
    return {"reply": reply_json(reply)}


@router.delete(
    "/websites/{website_id}/replies/{reply_id}",
    status_code=204,
    summary="Delete a canned reply",
    openapi_extra=access("admin"),
)
async def delete_reply(website_id: str, reply_id: str, rt: Rt, actor: CurrentActor) -> Response:
    await do_delete_reply(rt, actor, website_id, reply_id)
    return Response(status_code=204)


@router.get(
    "/conversations/{conversation_id}/reply-variables",
    response_model=ReplyVariablesOut,
    summary="The values plugins give their canned-reply variables in this conversation",
    openapi_extra=access("agent"),
)
async def reply_variables(conversation_id: str, rt: Rt, actor: CurrentActor) -> Json:
    return {"variables": await get_reply_variables(rt, actor, conversation_id)}


# labels


@router.get(
    "/websites/{website_id}/labels",
    response_model=LabelsOut,
    summary="The website's labels, by name",
    openapi_extra=access("agent"),
)
async def list_labels(website_id: str, rt: Rt, actor: CurrentActor) -> Json:
    return {"labels": [label_json(x) for x in await get_labels(rt, actor, website_id)]}


@router.post(
    "/websites/{website_id}/labels",
    status_code=201,
    response_model=LabelBody,
    summary="Add a label (name unique on the website, colour #rrggbb)",
    openapi_extra=access("admin"),
)
async def create_label(website_id: str, body: LabelIn, rt: Rt, actor: CurrentActor) -> Json:
    label = await do_create_label(rt, actor, website_id, name=body.name, color=body.color)
    return {"label": label_json(label)}


@router.patch(
    "/websites/{website_id}/labels/{label_id}",
    response_model=LabelBody,
    summary="Rename or recolour a label",
    openapi_extra=access("admin"),
)
async def update_label(
    website_id: str, label_id: str, body: LabelPatch, rt: Rt, actor: CurrentActor
) -> Json:
    label = await do_update_label(rt, actor, website_id, label_id, name=body.name, color=body.color)
    return {"label": label_json(label)}


@router.delete(
    "/websites/{website_id}/labels/{label_id}",
    status_code=204,
    summary="Delete a label; it leaves every conversation (each a conversation.updated)",
    openapi_extra=access("admin"),
)
async def delete_label(website_id: str, label_id: str, rt: Rt, actor: CurrentActor) -> Response:
    await do_delete_label(rt, actor, website_id, label_id)
    return Response(status_code=204)


@router.put(
    "/conversations/{conversation_id}/labels",
    response_model=ConversationBody,
    summary="Give a conversation exactly these labels of its website",
    openapi_extra=access("agent"),
)
async def set_labels(
    conversation_id: str, body: ConversationLabelsIn, rt: Rt, actor: CurrentActor
) -> Json:
    conversation = await do_set_labels(rt, actor, conversation_id, list(body.labels))
    return {"conversation": conversation_json(conversation, for_visitor=False)}
