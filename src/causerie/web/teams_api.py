"""`/api/v1` for teams and transfers (docs/api.md "Teams"): agents read teams and transfer
conversations; admins and owners manage teams."""

from __future__ import annotations

from fastapi import APIRouter, Response

from causerie.actions.teams import (
    do_create_team,
    do_delete_team,
    do_transfer,
    do_update_team,
    get_teams,
)
from causerie.domain.wire import conversation_json, team_json
from causerie.web.api_models import (
    ERRORS,
    ConversationBody,
    TeamBody,
    TeamIn,
    TeamPatch,
    TeamsOut,
    TransferIn,
)
from causerie.web.deps import CurrentActor, Rt
from causerie.web.lean_route import LeanRoute
from causerie.web.routes import access

router = APIRouter(prefix="/api/v1", tags=["agent"], responses=ERRORS, route_class=LeanRoute)

Json = dict[str, object]


@router.get(
    "/websites/{website_id}/teams",
    response_model=TeamsOut,
    summary="The website's teams, oldest first (the first receives new conversations)",
    openapi_extra=access("agent"),
)
async def list_teams(website_id: str, rt: Rt, actor: CurrentActor) -> Json:
    return {"teams": [team_json(t) for t in await get_teams(rt, actor, website_id)]}


@router.post(
    "/websites/{website_id}/teams",
    status_code=201,
    response_model=TeamBody,
    summary="Create a team: name, members, mode (round_robin or manual) and capacity per agent",
    openapi_extra=access("admin"),
)
async def create_team(website_id: str, body: TeamIn, rt: Rt, actor: CurrentActor) -> Json:
    team = await do_create_team(
        rt,
        actor,
        website_id,
        name=body.name,
        mode=body.mode,
        capacity=body.capacity,
        members=body.members,
    )
    return {"team": team_json(team)}


@router.patch(
    "/websites/{website_id}/teams/{team_id}",
    response_model=TeamBody,
    summary="Change a team's name, mode, capacity or members",
    openapi_extra=access("admin"),
)
async def update_team(
    website_id: str, team_id: str, body: TeamPatch, rt: Rt, actor: CurrentActor
) -> Json:
    team = await do_update_team(
        rt,
        actor,
        team_id,
        website_id=website_id,
        name=body.name,
        mode=body.mode,
        capacity=body.capacity,
        members=body.members,
    )
    return {"team": team_json(team)}


@router.delete(
    "/websites/{website_id}/teams/{team_id}",
    status_code=204,
    summary="Delete a team (its conversations keep their assignee)",
    openapi_extra=access("admin"),
)
async def delete_team(website_id: str, team_id: str, rt: Rt, actor: CurrentActor) -> Response:
    await do_delete_team(rt, actor, team_id, website_id=website_id)
    return Response(status_code=204)


@router.post(
    "/conversations/{conversation_id}/transfer",
    response_model=ConversationBody,
    summary="Transfer to an operator or to a team, with an event line in the thread",
    openapi_extra=access("agent"),
)
async def transfer(conversation_id: str, body: TransferIn, rt: Rt, actor: CurrentActor) -> Json:
    conversation = await do_transfer(
        rt, actor, conversation_id, operator_id=body.operator_id, team_id=body.team_id
    )
    return {"conversation": conversation_json(conversation, for_visitor=False)}
