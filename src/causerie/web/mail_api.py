"""Mail over HTTP (docs/notifications.md): the one-click unsubscribe page (RFC 8058), the
addresses the mail server refused (for agents), and the transcript a visitor asks for from the
chatbox's menu. The preferences are on `/api/v1/me` (web/auth_api.py)."""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from causerie.actions.mail import (
    check_unsubscribe_token,
    do_request_transcript,
    do_unsubscribe,
    get_mail_failures,
)
from causerie.domain.wire import mail_failure_json
from causerie.web.api_models import ERRORS, MailFailuresOut
from causerie.web.api_models.visitor import QueuedOut
from causerie.web.body import body_doc, parse_json
from causerie.web.deps import Bearer, CurrentActor, Rt
from causerie.web.lean_route import LeanRoute
from causerie.web.responses import JSONResponse
from causerie.web.routes import access
from causerie.web.schemas import TranscriptIn

agents = APIRouter(prefix="/api/v1", tags=["agent"], responses=ERRORS, route_class=LeanRoute)
visitors = APIRouter(
    prefix="/api/widget/v1", tags=["visitor"], responses=ERRORS, route_class=LeanRoute
)
pages = APIRouter(include_in_schema=False, route_class=LeanRoute)

_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_STYLE = "body{font:16px/1.6 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}"


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width"><style>{_STYLE}</style></head>'
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=_HEADERS)


@pages.get("/mail/unsubscribe/{token}")
async def unsubscribe_page(token: str, rt: Rt) -> HTMLResponse:
    """A link opened (or fetched by a mail scanner) changes nothing: the button posts."""
    check_unsubscribe_token(rt, token[:200])
    return _page(
        "Unsubscribe / Se désinscrire",
        '<form method="post"><p>Stop these mails? / Ne plus recevoir ces messages ?</p>'
        '<button type="submit" name="List-Unsubscribe" value="One-Click">'
        "Unsubscribe / Se désinscrire</button></form>",
    )


@pages.post("/mail/unsubscribe/{token}")
async def unsubscribe(token: str, rt: Rt) -> HTMLResponse:
    """RFC 8058 one-click: the mail client POSTs `List-Unsubscribe=One-Click` here."""
    await do_unsubscribe(rt, token[:200])
    return _page(
        "Unsubscribed / Désinscrit",
        "<p>You will receive no more of these mails. / Vous ne recevrez plus ces messages.</p>",
    )


@agents.get(
    "/websites/{website_id}/mail/failures",
    response_model=MailFailuresOut,
    summary="Addresses the mail server refused for good: they get no more mail",
    openapi_extra=access("agent", "read"),
)
async def list_mail_failures(website_id: str, rt: Rt, actor: CurrentActor) -> dict[str, object]:
    failures = await get_mail_failures(rt, actor, website_id)
    return {"failures": [mail_failure_json(f) for f in failures]}


@visitors.post(
    "/session/transcript",
    status_code=202,
    responses={202: {"model": QueuedOut, "description": "The mail is queued"}},
    summary="Mail the visitor their conversation, to the email they left",
    openapi_extra=body_doc(TranscriptIn, required=False),
)
async def request_transcript(request: Request, rt: Rt, token: Bearer) -> JSONResponse:
    raw = await request.body()
    if raw.strip():  # nothing, or `{}`: a field is refused (422 naming it), nothing is queued
        parse_json(raw, TranscriptIn)
    await do_request_transcript(rt, token=token, origin=request.headers.get("origin"))
    return JSONResponse({"queued": True}, status_code=202)


# The app adds each one's routes to its own (`app.py`, `add_routes` in `web/lean_route.py`).
ROUTERS = (agents, visitors, pages)
