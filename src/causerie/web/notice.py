"""`/privacy/{website_id}`: the website's privacy notice as a page (P8), linked from the chatbox.

`?lang=en|fr` chooses the language; otherwise the website's chatbox language, then the browser's.
"""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from causerie.actions.websites import get_website
from causerie.domain.errors import shown
from causerie.domain.notice import LANGUAGES, Limits, notice
from causerie.web.deps import Rt
from causerie.web.errors import ApiError
from causerie.web.lean_route import LeanRoute

router = APIRouter(include_in_schema=False, route_class=LeanRoute)

_STYLE = (
    "body{font:16px/1.6 system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;"
    "color:#1f2328}h1{font-size:1.6rem}h2{font-size:1.15rem;margin-top:2rem}"
    "nav a{margin-right:1rem}"
)
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _language(request: Request, preferred: object) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    if preferred in LANGUAGES:
        return str(preferred)
    accept = request.headers.get("accept-language", "").lower()
    for part in accept.split(","):
        code = part.split(";")[0].strip()[:2]
        if code in LANGUAGES:
            return code
    return "en"


@router.get("/privacy/{website_id}")
async def privacy_notice(website_id: str, request: Request, rt: Rt) -> HTMLResponse:
    website = await get_website(rt, website_id[:64])
    if website is None:
        raise ApiError(404, "website_not_found", f"no website {shown(website_id)}")
    lang = _language(request, website.settings.get("locale"))
    limits = Limits(
        temporary_session_ttl=rt.settings.temporary_session_ttl,
        chat_ip_retention=rt.settings.chat_ip_retention,
        conversation_retention=rt.settings.conversation_retention,
        cookie_max_age=rt.settings.cookie_max_age,
    )
    title, sections = notice(website, limits, lang)
    other = "fr" if lang == "en" else "en"
    body = "".join(
        f"<h2>{html.escape(s.title)}</h2>"
        + "".join(f"<p>{html.escape(p)}</p>" for p in s.paragraphs)
        for s in sections
    )
    page = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f'<nav><a href="?lang={other}" hreflang="{other}">'
        f"{'Version française' if other == 'fr' else 'English version'}</a></nav>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(page, headers=HEADERS)
