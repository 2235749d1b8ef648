"""The agent and integration API (`/api/v1`), authenticated by API tokens. See docs/api.md."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from causerie.actions.conversations import do_delete_conversation
from causerie.actions.messages import do_send_operator_message
from causerie.domain.wire import message_json
from causerie.web.body import body_doc, parse_body
from causerie.web.deps import CurrentActor, Rt
from causerie.web.schemas import OperatorMessageIn

router = APIRouter(prefix="/api/v1", tags=["agent"])


@router.delete(
    "/conversations/{conversation_id}",
    summary="Delete a conversation with its session, messages, profile and IP (owner, admin)",
)
async def delete_conversation(conversation_id: str, rt: Rt, actor: CurrentActor) -> JSONResponse:
    count = await do_delete_conversation(rt, actor, conversation_id)
    return JSONResponse({"deleted": {"conversation_id": conversation_id, "messages": count}})


@router.post(
    "/sessions/{session_id}/messages",
    openapi_extra=body_doc(OperatorMessageIn),
    summary="Write to a visitor's session (type text or note), starting its conversation",
)
async def send_to_session(
    session_id: str, request: Request, rt: Rt, actor: CurrentActor
) -> JSONResponse:
    data = await parse_body(request, OperatorMessageIn)
    sent = await do_send_operator_message(
        rt,
        actor,
        session_id=session_id,
        client_id=data.client_id,
        body=data.body,
        type_=data.type,
    )
    return JSONResponse(
        {"message": message_json(sent.message)}, status_code=201 if sent.created else 200
    )
