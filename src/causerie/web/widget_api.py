"""The visitor side of the HTTP API (`/api/widget/v1`): the chatbox's calls. See docs/api.md.

The busiest of them, opening the session on each chatbox load, is in `session_route.py`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from causerie.actions.messages import do_send_visitor_message, get_visitor_messages
from causerie.actions.profiles import do_update_visitor_profile
from causerie.domain.wire import message_json, visitor_session_json
from causerie.web.body import body_doc, parse_body
from causerie.web.deps import Bearer, Rt
from causerie.web.schemas import MessageIn, ProfileIn

router = APIRouter(prefix="/api/widget/v1", tags=["visitor"])


@router.get("/session/messages", summary="Older messages of the visitor's own conversation")
async def list_messages(
    request: Request,
    rt: Rt,
    token: Bearer,
    before: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> JSONResponse:
    messages = await get_visitor_messages(
        rt, token=token, origin=request.headers.get("origin"), before=before, limit=limit
    )
    return JSONResponse({"messages": [message_json(m) for m in messages]})


@router.post(
    "/session/messages",
    openapi_extra=body_doc(MessageIn),
    summary="Send a message without a WebSocket",
)
async def send_message(request: Request, rt: Rt, token: Bearer) -> JSONResponse:
    data = await parse_body(request, MessageIn)
    sent = await do_send_visitor_message(
        rt,
        token=token,
        origin=request.headers.get("origin"),
        client_id=data.client_id,
        body=data.body,
        type_=data.type,
    )
    return JSONResponse(
        {"message": message_json(sent.message)}, status_code=201 if sent.created else 200
    )


@router.patch(
    "/session/profile",
    openapi_extra=body_doc(ProfileIn),
    summary="Set or correct the visitor's nickname, email, phone and custom data (P7)",
)
async def update_profile(request: Request, rt: Rt, token: Bearer) -> JSONResponse:
    data = await parse_body(request, ProfileIn)
    given = {name: getattr(data, name) for name in data.model_fields_set if name != "data"}
    session = await do_update_visitor_profile(
        rt, token=token, origin=request.headers.get("origin"), data=data.data, **given
    )
    return JSONResponse({"session": visitor_session_json(session)})
