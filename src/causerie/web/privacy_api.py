"""Privacy tools over `/api/v1`: data-subject requests, the register, the audit log, legal
export and the DPA (docs/api.md "Privacy"). A person is named in the body, never in the URL,
so no address or email reaches an access log.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from causerie.actions.file_export import do_export_subject_archive
from causerie.actions.privacy import (
    do_accept_dpa,
    do_erase_subject,
    do_export_subject,
    do_legal_export,
    find_subject,
    get_audit,
    get_dpa,
    get_register,
)
from causerie.domain.models import DpaAcceptance
from causerie.domain.privacy import DPA_VERSION
from causerie.domain.wire import agent_session_json, iso
from causerie.web.api_models import ERRORS
from causerie.web.api_models.privacy import (
    AuditOut,
    DpaIn,
    DpaOut,
    ErasedOut,
    RegisterOut,
    SubjectIn,
    SubjectsOut,
)
from causerie.web.deps import CurrentActor, Rt
from causerie.web.files_api import ExportFormat, archive_response
from causerie.web.lean_route import LeanRoute
from causerie.web.query_ints import Digits
from causerie.web.responses import JSONResponse
from causerie.web.routes import access

router = APIRouter(prefix="/api/v1", tags=["privacy"], responses=ERRORS, route_class=LeanRoute)

Json = dict[str, Any]


@router.post(
    "/privacy/search",
    response_model=SubjectsOut,
    summary="Find what is held about a person, by email or session id (owner, admin)",
    openapi_extra=access("admin", scope="read"),
)
async def search(body: SubjectIn, rt: Rt, actor: CurrentActor) -> Json:
    found = await find_subject(rt, actor, email=body.email, session_id=body.session_id)
    return {
        "sessions": [
            {
                "session": agent_session_json(s.session),
                "conversation_id": s.conversation_id,
                "messages": s.messages,
            }
            for s in found
        ]
    }


@router.post(
    "/privacy/export",
    summary="Everything held about a person, as one JSON document; with format=zip, a ZIP of "
    "that document and their files (owner, admin; audited)",
    openapi_extra=access("admin", scope="read"),
)
async def export(
    body: SubjectIn, rt: Rt, actor: CurrentActor, format: ExportFormat = "json"
) -> Response:
    if format == "zip":
        archive = await do_export_subject_archive(
            rt, actor, email=body.email, session_id=body.session_id
        )
        return archive_response(archive, "personal-data.zip")
    document = await do_export_subject(rt, actor, email=body.email, session_id=body.session_id)
    return JSONResponse(document)


@router.post(
    "/privacy/erase",
    response_model=ErasedOut,
    summary="Erase a person: sessions, messages, profile, IPs, consent (owner, admin; audited)",
    openapi_extra=access("admin"),
)
async def erase(body: SubjectIn, rt: Rt, actor: CurrentActor) -> Json:
    counts = await do_erase_subject(rt, actor, email=body.email, session_id=body.session_id)
    return {"erased": counts}


@router.get(
    "/privacy/register",
    response_model=RegisterOut,
    summary="The record of processing activities (Art. 30) for the websites the caller manages",
    openapi_extra=access("admin"),
)
async def register(rt: Rt, actor: CurrentActor) -> Json:
    return {"markdown": await get_register(rt, actor)}


@router.post(
    "/conversations/{conversation_id}/legal-export",
    summary="A conversation with its IP and times, for a legal request (owner; audited)",
    openapi_extra=access("owner", scope="read"),
)
async def legal_export(conversation_id: str, rt: Rt, actor: CurrentActor) -> Json:
    return await do_legal_export(rt, actor, conversation_id)


@router.get(
    "/websites/{website_id}/audit",
    response_model=AuditOut,
    summary="The website's audit log, newest first (owner)",
    openapi_extra=access("owner"),
)
async def audit(
    website_id: str,
    rt: Rt,
    actor: CurrentActor,
    action: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    actor_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200), Digits] = 50,
    cursor: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> Json:
    entries, next_cursor = await get_audit(
        rt, actor, website_id, action=action, actor_id=actor_id, limit=limit, cursor=cursor
    )
    return {
        "entries": [
            {
                "id": e.id,
                "at": iso(e.at),
                "actor_type": e.actor_type,
                "actor_id": e.actor_id,
                "action": e.action,
                "target_type": e.target_type,
                "target_id": e.target_id,
                "details": e.details,
            }
            for e in entries
        ],
        "next_cursor": next_cursor,
    }


def _dpa_json(acceptances: list[DpaAcceptance]) -> Json:
    return {
        "current_version": DPA_VERSION,
        "acceptances": [
            {
                "version": a.version,
                "operator": {"id": a.operator_id, "name": a.operator_name}
                if a.operator_id
                else None,
                "accepted_at": iso(a.accepted_at),
            }
            for a in acceptances
        ],
    }


@router.get(
    "/websites/{website_id}/dpa",
    response_model=DpaOut,
    summary="The data-processing agreement offered, and the versions this website accepted",
    openapi_extra=access("admin"),
)
async def read_dpa(website_id: str, rt: Rt, actor: CurrentActor) -> Json:
    return _dpa_json(await get_dpa(rt, actor, website_id))


@router.post(
    "/websites/{website_id}/dpa",
    status_code=201,
    response_model=DpaOut,
    summary="Accept the data-processing agreement's current version for the website (owner)",
    openapi_extra=access("owner"),
)
async def accept_dpa(website_id: str, body: DpaIn, rt: Rt, actor: CurrentActor) -> Json:
    await do_accept_dpa(rt, actor, website_id, body.version)
    return _dpa_json(await get_dpa(rt, actor, website_id))
