"""The visitor's own privacy controls (P9), called by the chatbox's menu: download their data,
erase their conversation, give or withdraw consent. Authenticated by the session token, like the
rest of `/api/widget/v1` (docs/api.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from causerie.actions.consent import do_give_consent, do_withdraw_consent
from causerie.actions.file_export import do_export_own_session_archive
from causerie.actions.privacy import do_erase_own_session, do_export_own_session
from causerie.domain.wire import visitor_session_json
from causerie.web.api_models import ERRORS
from causerie.web.api_models.privacy import ErasedOut
from causerie.web.api_models.visitor import ExportOut, VisitorSessionBody
from causerie.web.body import body_doc, parse_body
from causerie.web.deps import Bearer, Rt
from causerie.web.files_api import ExportFormat, archive_response
from causerie.web.lean_route import LeanRoute
from causerie.web.responses import JSONResponse
from causerie.web.schemas import ConsentIn

router = APIRouter(
    prefix="/api/widget/v1", tags=["visitor"], responses=ERRORS, route_class=LeanRoute
)


@router.get(
    "/session/export",
    responses={
        200: {
            "model": ExportOut,
            "description": "The JSON document; with format=zip, a ZIP of it and the files",
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    summary="Everything held about this visitor, as JSON; with format=zip, with their files (P9)",
)
async def export_own_data(
    request: Request, rt: Rt, token: Bearer, format: ExportFormat = "json"
) -> Response:
    origin = request.headers.get("origin")
    if format == "zip":
        archive = await do_export_own_session_archive(rt, token, origin)
        return archive_response(archive, "my-chat-data.zip")
    document = await do_export_own_session(rt, token, origin)
    return JSONResponse(
        document,
        headers={
            "Content-Disposition": 'attachment; filename="my-chat-data.json"',
            "Cache-Control": "no-store",
        },
    )


@router.delete(
    "/session",
    responses={200: {"model": ErasedOut}},
    summary="Erase this visitor's session, messages, profile and IP address (P9)",
)
async def erase_own_session(request: Request, rt: Rt, token: Bearer) -> JSONResponse:
    counts = await do_erase_own_session(rt, token, request.headers.get("origin"))
    return JSONResponse({"erased": counts})


@router.post(
    "/session/consent",
    responses={200: {"model": VisitorSessionBody}},
    openapi_extra=body_doc(ConsentIn),
    summary="Accept the website's privacy notice, in the version shown (P9)",
)
async def give_consent(request: Request, rt: Rt, token: Bearer) -> JSONResponse:
    data = await parse_body(request, ConsentIn)
    session = await do_give_consent(rt, token, request.headers.get("origin"), data.version)
    return JSONResponse({"session": visitor_session_json(session)})


@router.delete(
    "/session/consent",
    responses={200: {"model": VisitorSessionBody}},
    summary="Withdraw consent: nothing more is collected (P9)",
)
async def withdraw_consent(request: Request, rt: Rt, token: Bearer) -> JSONResponse:
    session = await do_withdraw_consent(rt, token, request.headers.get("origin"))
    return JSONResponse({"session": visitor_session_json(session)})
