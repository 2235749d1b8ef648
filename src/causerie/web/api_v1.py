"""The agent and integration API (`/api/v1`): websites, operators, conversations, visitors and
API tokens. The inbox uses nothing else. See docs/api.md.

Each route names the access it needs (`web/routes.py`); the actions enforce it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from causerie.actions.api_tokens import do_issue_api_token, do_revoke_api_token, get_api_tokens
from causerie.actions.conversations import do_delete_conversation
from causerie.actions.inbox import (
    do_assign,
    do_edit_profile,
    do_set_state,
    get_conversations,
    get_thread,
    get_thread_messages,
    get_visitor_session,
)
from causerie.actions.members import do_invite, do_remove_member, do_set_role, get_members
from causerie.actions.messages import Sent, do_send_operator_message
from causerie.actions.presence import get_visitors_online
from causerie.actions.reads import do_mark_read
from causerie.actions.stats import get_daily_stats
from causerie.actions.websites import (
    do_create_owned_website,
    do_delete_website,
    do_update_website,
    get_my_websites,
    get_website_as,
)
from causerie.domain.models import Author, ConversationState, Role, Scope
from causerie.domain.websites import snippet
from causerie.domain.wire import (
    agent_session_json,
    api_token_json,
    conversation_json,
    member_json,
    message_json,
    operator_json,
    rating_json,
    summary_json,
    website_json,
)
from causerie.web.api_models import (
    ERRORS,
    AssignIn,
    ConversationBody,
    ConversationsOut,
    DeletedOut,
    DeletedWebsiteOut,
    InvitedOut,
    InviteIn,
    MemberBody,
    MembersOut,
    MessageBody,
    MessagesOut,
    ReadIn,
    RoleIn,
    SessionBody,
    SessionDetailOut,
    StatsOut,
    ThreadOut,
    TokenCreatedOut,
    TokenIn,
    TokensOut,
    VisitorsOut,
    WebsiteBody,
    WebsiteDetailOut,
    WebsiteIn,
    WebsitePatch,
    WebsitesOut,
)
from causerie.web.cors import OriginCache
from causerie.web.deps import CurrentActor, Rt
from causerie.web.lean_route import LeanRoute
from causerie.web.query_ints import Digits
from causerie.web.responses import JSONResponse
from causerie.web.routes import access
from causerie.web.schemas import OperatorMessageIn, ProfileIn

router = APIRouter(prefix="/api/v1", tags=["agent"], responses=ERRORS, route_class=LeanRoute)

Json = dict[str, object]


def _sent(sent: Sent) -> JSONResponse:
    """201 with the new message, or 200 with the one a repeated client_id stored before."""
    return JSONResponse(
        {"message": message_json(sent.message)}, status_code=201 if sent.created else 200
    )


def _origins_changed(request: Request) -> None:
    """This node answers CORS with the new origins at once (others within seconds)."""
    cache: OriginCache = request.app.state.origin_cache
    cache.invalidate()


# websites


@router.get(
    "/websites",
    response_model=WebsitesOut,
    summary="The caller's websites, with their role on each",
    openapi_extra=access("login"),
)
async def list_websites(rt: Rt, actor: CurrentActor) -> Json:
    pairs = await get_my_websites(rt, actor)
    return {"websites": [{**website_json(w), "role": r.value} for w, r in pairs]}


@router.post(
    "/websites",
    status_code=201,
    response_model=WebsiteBody,
    summary="Create a website; the caller becomes its owner",
    openapi_extra=access("login"),
)
async def create_website(body: WebsiteIn, request: Request, rt: Rt, actor: CurrentActor) -> Json:
    website = await do_create_owned_website(rt, actor, body.name, body.origins)
    _origins_changed(request)
    return {"website": website_json(website)}


@router.get(
    "/websites/{website_id}",
    response_model=WebsiteDetailOut,
    summary="A website, the caller's role and the embed snippet",
    openapi_extra=access("agent"),
)
async def read_website(website_id: str, rt: Rt, actor: CurrentActor) -> Json:
    website, role = await get_website_as(rt, actor, website_id)
    return {
        "website": website_json(website),
        "role": role.value,
        "snippet": snippet(website.id, rt.settings.public_url),
    }


@router.patch(
    "/websites/{website_id}",
    response_model=WebsiteBody,
    summary="Change a website's name, origins or chatbox settings",
    openapi_extra=access("admin"),
)
async def update_website(
    website_id: str, body: WebsitePatch, request: Request, rt: Rt, actor: CurrentActor
) -> Json:
    website = await do_update_website(
        rt,
        actor,
        website_id,
        name=body.name,
        origins=body.origins,
        settings=body.settings.model_dump(exclude_unset=True) if body.settings else None,
    )
    _origins_changed(request)
    return {"website": website_json(website)}


@router.delete(
    "/websites/{website_id}",
    response_model=DeletedWebsiteOut,
    summary="Destroy a website with every session, conversation and message",
    openapi_extra=access("owner"),
)
async def delete_website(website_id: str, request: Request, rt: Rt, actor: CurrentActor) -> Json:
    count = await do_delete_website(rt, actor, website_id)
    _origins_changed(request)
    return {"deleted": {"website_id": website_id, "conversations": count}}


@router.get(
    "/websites/{website_id}/visitors",
    response_model=VisitorsOut,
    summary="Visitors on the website now",
    openapi_extra=access("agent"),
)
async def visitors_online(website_id: str, rt: Rt, actor: CurrentActor) -> Json:
    await get_website_as(rt, actor, website_id)
    return {"visitors": await get_visitors_online(rt, website_id)}


@router.get(
    "/websites/{website_id}/stats",
    response_model=StatsOut,
    summary="Conversations started and messages per day: aggregates only (P3)",
    openapi_extra=access("agent"),
)
async def stats(
    website_id: str,
    rt: Rt,
    actor: CurrentActor,
    days: Annotated[int, Query(ge=1, le=366), Digits] = 30,
) -> Json:
    return await get_daily_stats(rt, actor, website_id, days)


# operators of a website


@router.get(
    "/websites/{website_id}/operators",
    response_model=MembersOut,
    summary="The website's operators and their roles",
    openapi_extra=access("agent"),
)
async def list_operators(website_id: str, rt: Rt, actor: CurrentActor) -> Json:
    return {"operators": [member_json(m) for m in await get_members(rt, actor, website_id)]}


@router.post(
    "/websites/{website_id}/operators",
    status_code=201,
    response_model=InvitedOut,
    summary="Invite someone: a one-time link to this website and role, granted when accepted",
    openapi_extra=access("admin"),
)
async def invite_operator(website_id: str, body: InviteIn, rt: Rt, actor: CurrentActor) -> Json:
    invited = await do_invite(rt, actor, website_id, body.email, Role(body.role))
    return {"operator": member_json(invited.member), "invitation_url": invited.invitation_url}


@router.patch(
    "/websites/{website_id}/operators/{operator_id}",
    response_model=MemberBody,
    summary="Change an operator's role",
    openapi_extra=access("admin"),
)
async def set_role(
    website_id: str, operator_id: str, body: RoleIn, rt: Rt, actor: CurrentActor
) -> Json:
    member = await do_set_role(rt, actor, website_id, operator_id, Role(body.role))
    return {"operator": member_json(member)}


@router.delete(
    "/websites/{website_id}/operators/{operator_id}",
    status_code=204,
    summary="Remove an operator from the website (anyone may leave)",
    openapi_extra=access("admin"),
)
async def remove_operator(
    website_id: str, operator_id: str, rt: Rt, actor: CurrentActor
) -> Response:
    await do_remove_member(rt, actor, website_id, operator_id)
    return Response(status_code=204)


# conversations

StateFilter = Literal["open", "resolved", "all", "spam"]


@router.get(
    "/websites/{website_id}/conversations",
    response_model=ConversationsOut,
    summary="Conversations, newest activity first, with filters and search",
    openapi_extra=access("agent"),
)
async def list_conversations(
    website_id: str,
    rt: Rt,
    actor: CurrentActor,
    state: StateFilter = "open",
    assignee: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100), Digits] = 25,
    cursor: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    label: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> Json:
    page = await get_conversations(
        rt,
        actor,
        website_id,
        state=None if state in ("all", "spam") else ConversationState(state),
        assignee=assignee,
        query=q,
        limit=limit,
        cursor=cursor,
        label=label,
        spam=state == "spam",
    )
    return {
        "conversations": [summary_json(s) for s in page.conversations],
        "next_cursor": page.next_cursor,
    }


@router.get(
    "/conversations/{conversation_id}",
    response_model=ThreadOut,
    summary="A conversation with its visitor and latest messages (notes included)",
    openapi_extra=access("agent"),
)
async def read_conversation(conversation_id: str, rt: Rt, actor: CurrentActor) -> Json:
    thread = await get_thread(rt, actor, conversation_id)
    return {
        "conversation": conversation_json(thread.conversation, for_visitor=False),
        "session": agent_session_json(thread.session),
        "messages": [message_json(m) for m in thread.messages],
        "assignee": operator_json(thread.assignee) if thread.assignee else None,
        "ratings": [rating_json(r) for r in thread.ratings],
        "spam": thread.conversation.spam,  # as the conversation's: kept for older clients
    }


@router.get(
    "/conversations/{conversation_id}/messages",
    response_model=MessagesOut,
    summary="Older messages of a conversation, oldest first",
    openapi_extra=access("agent"),
)
async def list_messages(
    conversation_id: str,
    rt: Rt,
    actor: CurrentActor,
    before: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100), Digits] = 50,
) -> Json:
    found = await get_thread_messages(rt, actor, conversation_id, before=before, limit=limit)
    return {"messages": [message_json(m) for m in found]}


@router.post(
    "/conversations/{conversation_id}/messages",
    status_code=201,
    response_model=MessageBody,
    summary="Reply to the visitor (type text) or write a private note (type note)",
    responses={
        200: {
            "model": MessageBody,
            "description": "The client_id was used already: the message stored then",
        }
    },
    openapi_extra=access("agent"),
)
async def reply(
    conversation_id: str, body: OperatorMessageIn, rt: Rt, actor: CurrentActor
) -> JSONResponse:
    sent = await do_send_operator_message(
        rt,
        actor,
        conversation_id=conversation_id,
        client_id=body.client_id,
        body=body.body,
        type_=body.type,
        over_http=True,
    )
    return _sent(sent)


@router.post(
    "/conversations/{conversation_id}/assign",
    response_model=ConversationBody,
    summary="Assign to an operator of the website, or to nobody (null)",
    openapi_extra=access("agent"),
)
async def assign(conversation_id: str, body: AssignIn, rt: Rt, actor: CurrentActor) -> Json:
    conversation = await do_assign(rt, actor, conversation_id, body.operator_id)
    return {"conversation": conversation_json(conversation, for_visitor=False)}


@router.post(
    "/conversations/{conversation_id}/resolve",
    response_model=ConversationBody,
    summary="Mark resolved",
    openapi_extra=access("agent"),
)
async def resolve(conversation_id: str, rt: Rt, actor: CurrentActor) -> Json:
    conversation = await do_set_state(rt, actor, conversation_id, ConversationState.RESOLVED)
    return {"conversation": conversation_json(conversation, for_visitor=False)}


@router.post(
    "/conversations/{conversation_id}/reopen",
    response_model=ConversationBody,
    summary="Reopen",
    openapi_extra=access("agent"),
)
async def reopen(conversation_id: str, rt: Rt, actor: CurrentActor) -> Json:
    conversation = await do_set_state(rt, actor, conversation_id, ConversationState.OPEN)
    return {"conversation": conversation_json(conversation, for_visitor=False)}


@router.post(
    "/conversations/{conversation_id}/read",
    response_model=ConversationBody,
    summary="Move the operators' read mark up to a message",
    openapi_extra=access("agent"),
)
async def mark_read(conversation_id: str, body: ReadIn, rt: Rt, actor: CurrentActor) -> Json:
    await do_mark_read(
        rt,
        conversation_id=conversation_id,
        reader=Author.OPERATOR,
        up_to=body.up_to,
        actor=actor,
    )
    thread = await get_thread(rt, actor, conversation_id)
    return {"conversation": conversation_json(thread.conversation, for_visitor=False)}


@router.delete(
    "/conversations/{conversation_id}",
    response_model=DeletedOut,
    summary="Delete a conversation with its session, messages, profile and IP (owner, admin)",
    openapi_extra=access("admin"),
)
async def delete_conversation(conversation_id: str, rt: Rt, actor: CurrentActor) -> Json:
    count = await do_delete_conversation(rt, actor, conversation_id)
    return {"deleted": {"conversation_id": conversation_id, "messages": count}}


# visitors' sessions


@router.get(
    "/sessions/{session_id}",
    response_model=SessionDetailOut,
    summary="A visitor's session as agents see it (never the IP)",
    openapi_extra=access("agent"),
)
async def read_session(session_id: str, rt: Rt, actor: CurrentActor) -> Json:
    session, conversation_id = await get_visitor_session(rt, actor, session_id)
    return {"session": agent_session_json(session), "conversation_id": conversation_id}


@router.patch(
    "/sessions/{session_id}/profile",
    response_model=SessionBody,
    summary="Correct a visitor's nickname, email, phone or custom data (P7)",
    openapi_extra=access("agent"),
)
async def edit_profile(session_id: str, body: ProfileIn, rt: Rt, actor: CurrentActor) -> Json:
    given = {
        f: getattr(body, f) for f in ("nickname", "email", "phone") if f in body.model_fields_set
    }
    session = await do_edit_profile(rt, actor, session_id, data=body.data, **given)
    return {"session": agent_session_json(session)}


@router.post(
    "/sessions/{session_id}/messages",
    status_code=201,
    response_model=MessageBody,
    summary="Write to a visitor's session (type text or note), starting its conversation",
    responses={
        200: {
            "model": MessageBody,
            "description": "The client_id was used already: the message stored then",
        }
    },
    openapi_extra=access("agent"),
)
async def send_to_session(
    session_id: str, body: OperatorMessageIn, rt: Rt, actor: CurrentActor
) -> JSONResponse:
    sent = await do_send_operator_message(
        rt,
        actor,
        session_id=session_id,
        client_id=body.client_id,
        body=body.body,
        type_=body.type,
        over_http=True,
    )
    return _sent(sent)


# API tokens (login only)


@router.get(
    "/tokens",
    response_model=TokensOut,
    summary="The caller's API tokens (never their secrets)",
    openapi_extra=access("login"),
)
async def list_tokens(rt: Rt, actor: CurrentActor) -> Json:
    return {"tokens": [api_token_json(t) for t in await get_api_tokens(rt, actor)]}


@router.post(
    "/tokens",
    status_code=201,
    response_model=TokenCreatedOut,
    summary="Create an API token; its secret is shown this once",
    openapi_extra=access("login"),
)
async def create_token(body: TokenIn, rt: Rt, actor: CurrentActor) -> Json:
    token, secret = await do_issue_api_token(
        rt,
        actor,
        name=body.name,
        scopes=frozenset(Scope(s) for s in body.scopes),
        website_ids=body.website_ids,
    )
    return {"token": api_token_json(token), "secret": secret}


@router.delete(
    "/tokens/{token_id}",
    status_code=204,
    summary="Revoke an API token",
    openapi_extra=access("login"),
)
async def revoke_token(token_id: str, rt: Rt, actor: CurrentActor) -> Response:
    await do_revoke_api_token(rt, actor, token_id)
    return Response(status_code=204)
