"""The visitor side of the HTTP API (`/api/widget/v1`): the chatbox's calls. See docs/api.md."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from causerie.actions.messages import do_send_visitor_message, get_visitor_messages
from causerie.actions.presence import get_availability
from causerie.actions.profiles import do_update_visitor_profile
from causerie.actions.sessions import do_open_session
from causerie.domain.models import PageView
from causerie.domain.websites import public_settings
from causerie.domain.wire import message_json, read_up_to_json, visitor_session_json
from causerie.runtime import Runtime
from causerie.web.api_models import ERRORS, MessageBody, MessagesOut
from causerie.web.api_models.visitor import OpenedSessionOut, VisitorSessionBody
from causerie.web.body import body_doc, parse_body
from causerie.web.client import agent_and_origin, client_ip
from causerie.web.deps import Bearer, Rt
from causerie.web.lean_route import LeanRoute
from causerie.web.query_ints import Digits
from causerie.web.responses import JSONResponse
from causerie.web.schemas import MessageIn, ProfileIn, SessionIn
from causerie.web.shield_gate import ARRIVED

router = APIRouter(
    prefix="/api/widget/v1", tags=["visitor"], responses=ERRORS, route_class=LeanRoute
)


@router.post(
    "/websites/{website_id}/session",
    status_code=201,
    responses={
        200: {"model": OpenedSessionOut, "description": "The token's session, renewed"},
        201: {"model": OpenedSessionOut, "description": "A new temporary session, with its token"},
    },
    openapi_extra=body_doc(SessionIn),
    summary="Open the chatbox session: renew it from its token, or create a temporary one",
)
async def open_session(website_id: str, request: Request) -> JSONResponse:
    """Every page view of every website calls it (the chatbox load): the runtime is taken from
    the app rather than through a dependency, which FastAPI would solve on each request."""
    rt: Runtime = request.app.state["rt"]  # `state.rt` raises and catches AttributeError
    data = await parse_body(request, SessionIn)
    user_agent, origin = agent_and_origin(request.scope)
    opened = await do_open_session(
        rt,
        website_id=website_id,
        token=data.token,
        page=PageView(
            url=data.page.url,
            title=data.page.title,
            referrer=data.page.referrer,
            locale=data.locale,
            timezone=data.timezone,
            user_agent=(user_agent or "")[:512],
        ),
        ip=client_ip(request.scope, rt.settings.trusted_proxies),
        origin=origin,
        proof=(data.proof.nonce, data.proof.solution) if data.proof else None,
        honeypot=bool(data.homepage),
    )
    website = opened.website
    settings = public_settings(website)
    extra = rt.plugins.chatbox_settings(website)
    if extra:
        settings = {**settings, "plugins": extra}  # docs/plugins.md, causerie_chatbox_settings
    return JSONResponse(
        {
            "token": opened.token or None,
            "session": visitor_session_json(opened.session) if opened.session else None,
            "messages": [message_json(m, for_visitor=True) for m in opened.messages],
            "read_up_to": read_up_to_json(opened.conversation),
            "seq": opened.seq,
            "website": {
                "id": website.id,
                "name": website.name,
                "settings": settings,
                "availability": await get_availability(rt, website.id, website),
                # Whether this server sends mail: the chatbox offers a transcript only then.
                "mail": rt.mailer is not None,
            },
            "cookie": {
                "name": f"causerie_session_{website.id}",
                "max_age": int(rt.settings.cookie_max_age.total_seconds()),
            },
        },
        status_code=201 if opened.created else 200,
    )


@router.get(
    "/session/messages",
    responses={200: {"model": MessagesOut}},
    summary="Older messages of the visitor's own conversation",
)
async def list_messages(
    request: Request,
    rt: Rt,
    token: Bearer,
    before: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100), Digits] = 50,
) -> JSONResponse:
    messages = await get_visitor_messages(
        rt, token=token, origin=request.headers.get("origin"), before=before, limit=limit
    )
    return JSONResponse({"messages": [message_json(m, for_visitor=True) for m in messages]})


@router.post(
    "/session/messages",
    status_code=201,
    responses={
        200: {"model": MessageBody, "description": "The client_id was used already: the message"},
        201: {"model": MessageBody, "description": "The message, stored"},
    },
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
        arrived=request.scope.get(ARRIVED),
    )
    return JSONResponse(
        {"message": message_json(sent.message, for_visitor=True)},
        status_code=201 if sent.created else 200,
    )


@router.patch(
    "/session/profile",
    responses={200: {"model": VisitorSessionBody}},
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
