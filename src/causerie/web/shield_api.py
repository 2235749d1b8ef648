"""The shield's routes in `/api/v1` (P18): block rules per website and server-wide, "block this
visitor" and spam marks from a conversation, and the overview of the networks. docs/api.md
"The shield"."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import Field

from causerie.actions.blocks import (
    do_add_block_rule,
    do_block_visitor,
    do_mark_spam,
    do_remove_block_rule,
    get_block_rules,
    get_shield_overview,
)
from causerie.domain.shield import MAX_REASON, MAX_VALUE, METRICS
from causerie.domain.wire import block_rule_json, iso
from causerie.web.api_models import ERRORS, Out
from causerie.web.deps import CurrentActor, Rt
from causerie.web.lean_route import LeanRoute
from causerie.web.routes import access
from causerie.web.schemas import Strict, UtcTime

router = APIRouter(prefix="/api/v1", tags=["shield"], responses=ERRORS, route_class=LeanRoute)

Json = dict[str, object]
Kind = Literal["address", "network", "email", "user_agent"]


class BlockIn(Strict):
    kind: Kind
    value: str = Field(min_length=1, max_length=MAX_VALUE)
    reason: str = Field(min_length=1, max_length=MAX_REASON)
    expires_at: UtcTime | None = None


class BlockVisitorIn(Strict):
    reason: str = Field(min_length=1, max_length=MAX_REASON)
    kind: Literal["address", "network"] = "address"
    expires_at: UtcTime | None = None


class BlockRuleOut(Out):
    id: str
    website_id: str | None
    kind: Kind
    value: str
    reason: str
    created_at: str
    created_by: str | None
    expires_at: str | None


class BlockRuleBody(Out):
    block: BlockRuleOut


class BlockRulesOut(Out):
    blocks: list[BlockRuleOut]


class SpamOut(Out):
    conversation_id: str
    spam: bool
    changed: bool


class NetworkOut(Out):
    network: str
    label: str
    counts: dict[str, int]
    score: float
    challenged: bool
    blocked: bool


class ShieldOut(Out):
    metrics: list[str]
    networks: list[NetworkOut]
    series: list[dict[str, Any]]
    blocks: list[BlockRuleOut]


# per website


@router.get(
    "/websites/{website_id}/blocks",
    response_model=BlockRulesOut,
    summary="The website's block rules (owner, admin)",
    openapi_extra=access("admin", "read"),
)
async def list_blocks(website_id: str, rt: Rt, actor: CurrentActor) -> Json:
    rules = await get_block_rules(rt, actor, website_id)
    return {"blocks": [block_rule_json(r) for r in rules]}


@router.post(
    "/websites/{website_id}/blocks",
    status_code=201,
    response_model=BlockRuleBody,
    summary="Refuse the chatbox to an address, network, email or user agent (owner, admin)",
    openapi_extra=access("admin"),
)
async def add_block(website_id: str, body: BlockIn, rt: Rt, actor: CurrentActor) -> Json:
    rule = await do_add_block_rule(
        rt,
        actor,
        website_id,
        kind=body.kind,
        value=body.value,
        reason=body.reason,
        expires_at=body.expires_at,
    )
    return {"block": block_rule_json(rule)}


@router.delete(
    "/websites/{website_id}/blocks/{block_id}",
    status_code=204,
    summary="Remove a block rule of the website (owner, admin)",
    openapi_extra=access("admin"),
)
async def remove_block(website_id: str, block_id: str, rt: Rt, actor: CurrentActor) -> Response:
    await do_remove_block_rule(rt, actor, website_id, block_id)
    return Response(status_code=204)


# server-wide


@router.get(
    "/blocks",
    response_model=BlockRulesOut,
    summary="Server-wide block rules (the operators CAUSERIE_SHIELD_ADMINS names)",
    openapi_extra=access("login", "read"),
)
async def list_server_blocks(rt: Rt, actor: CurrentActor) -> Json:
    rules = await get_block_rules(rt, actor, None)
    return {"blocks": [block_rule_json(r) for r in rules]}


@router.post(
    "/blocks",
    status_code=201,
    response_model=BlockRuleBody,
    summary="Refuse the chatbox of every website to an address, network, email or user agent",
    openapi_extra=access("login"),
)
async def add_server_block(body: BlockIn, rt: Rt, actor: CurrentActor) -> Json:
    rule = await do_add_block_rule(
        rt,
        actor,
        None,
        kind=body.kind,
        value=body.value,
        reason=body.reason,
        expires_at=body.expires_at,
    )
    return {"block": block_rule_json(rule)}


@router.delete(
    "/blocks/{block_id}",
    status_code=204,
    summary="Remove a server-wide block rule",
    openapi_extra=access("login"),
)
async def remove_server_block(block_id: str, rt: Rt, actor: CurrentActor) -> Response:
    await do_remove_block_rule(rt, actor, None, block_id)
    return Response(status_code=204)


@router.get(
    "/shield",
    response_model=ShieldOut,
    summary="The networks most active now, what was challenged and blocked, the last 24 hours",
    openapi_extra=access("login", "read"),
)
async def shield_overview(rt: Rt, actor: CurrentActor) -> Json:
    overview = await get_shield_overview(rt, actor)
    return {
        "metrics": list(METRICS),
        "networks": overview.networks,
        "series": [{**row, "hour": iso(row["hour"])} for row in overview.series],
        "blocks": [block_rule_json(r) for r in overview.rules],
    }


# from a conversation


@router.post(
    "/conversations/{conversation_id}/block",
    status_code=201,
    response_model=BlockRuleBody,
    summary="Block this conversation's visitor by address or network (owner, admin)",
    openapi_extra=access("admin"),
)
async def block_visitor(
    conversation_id: str, body: BlockVisitorIn, rt: Rt, actor: CurrentActor
) -> Json:
    rule = await do_block_visitor(
        rt,
        actor,
        conversation_id,
        reason=body.reason,
        kind=body.kind,
        expires_at=body.expires_at,
    )
    return {"block": block_rule_json(rule)}


@router.post(
    "/conversations/{conversation_id}/spam",
    response_model=SpamOut,
    summary="Mark as spam: out of the lists but the spam filter; the network's score rises",
    openapi_extra=access("agent"),
)
async def mark_spam(conversation_id: str, rt: Rt, actor: CurrentActor) -> Json:
    changed = await do_mark_spam(rt, actor, conversation_id, True)
    return {"conversation_id": conversation_id, "spam": True, "changed": changed}


@router.delete(
    "/conversations/{conversation_id}/spam",
    response_model=SpamOut,
    summary="Not spam: back in the lists",
    openapi_extra=access("agent"),
)
async def unmark_spam(conversation_id: str, rt: Rt, actor: CurrentActor) -> Json:
    changed = await do_mark_spam(rt, actor, conversation_id, False)
    return {"conversation_id": conversation_id, "spam": False, "changed": changed}
