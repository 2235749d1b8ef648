"""The visitor rates their resolved conversation (`/api/widget/v1`, docs/api.md "Ratings")."""

from __future__ import annotations

from fastapi import APIRouter, Request

from causerie.actions.ratings import do_rate_conversation, get_rating_state
from causerie.domain.models import ConversationState
from causerie.domain.wire import rating_json
from causerie.web.api_models import ERRORS
from causerie.web.api_models.visitor import RatingBody, RatingStateOut
from causerie.web.body import body_doc, parse_body
from causerie.web.deps import Bearer, Rt
from causerie.web.lean_route import LeanRoute
from causerie.web.responses import JSONResponse
from causerie.web.schemas import RatingIn

router = APIRouter(
    prefix="/api/widget/v1", tags=["visitor"], responses=ERRORS, route_class=LeanRoute
)


@router.post(
    "/session/conversations/{conversation_id}/rating",
    responses={200: {"model": RatingBody}},
    openapi_extra=body_doc(RatingIn),
    summary="Rate the resolved conversation 1 to 5, with an optional comment (again: replaces)",
)
async def rate(conversation_id: str, request: Request, rt: Rt, token: Bearer) -> JSONResponse:
    data = await parse_body(request, RatingIn)
    rating = await do_rate_conversation(
        rt,
        token=token,
        origin=request.headers.get("origin"),
        conversation_id=conversation_id,
        rating=data.rating,
        comment=data.comment,
    )
    return JSONResponse({"rating": rating_json(rating)})


@router.get(
    "/session/rating",
    responses={200: {"model": RatingStateOut}},
    summary="The visitor's conversation, whether it is resolved, and its rating if given",
)
async def rating_state(request: Request, rt: Rt, token: Bearer) -> JSONResponse:
    conversation, rating = await get_rating_state(
        rt, token=token, origin=request.headers.get("origin")
    )
    return JSONResponse(
        {
            "conversation_id": conversation.id if conversation else None,
            "resolved": bool(conversation and conversation.state is ConversationState.RESOLVED),
            "rating": rating_json(rating) if rating else None,
        }
    )
