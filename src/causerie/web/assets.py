"""The chatbox's files: `/widget.js` (the snippet's script) and versioned modules it loads.

`/widget.js` is the one unversioned URL (the snippet names it), so it is cached briefly; it
names the exact version of everything it loads next, which is cached for a year. It also carries
the two server settings the chatbox needs before any session exists (docs/widget.md): when the
session starts (`CAUSERIE_SESSION_START`) and how long a temporary session lives (its cookie
lives no longer in strict mode). They are written into it once per process, so its ETag is
computed from the bytes actually sent. Every file is sent compressed when the browser accepts it,
with a strong ETag (causerie.web.encoded).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib.resources import files

from fastapi import APIRouter, Request
from starlette.responses import Response

from causerie.actions.websites import get_website
from causerie.domain.errors import shown
from causerie.web.compact import compact
from causerie.web.deps import Rt
from causerie.web.encoded import Encoded, encode, encode_static, respond
from causerie.web.errors import ApiError
from causerie.web.lean_route import LeanRoute
from causerie.web.responses import JSONResponse

router = APIRouter(include_in_schema=False, route_class=LeanRoute)

# Loaded before the chatbox is opened: chatbox.js, the modules it imports, and chatbox.css.
# Loaded on opening: privacy.js and .css, service.js (business hours, ratings) and files.js
# (which privacy.js imports) with uploads.js (shared with the inbox), and their texts
# (strings-chatbox-extras.js); when the shield challenges a load: challenge.js.
BEFORE_OPENING = (
    "chatbox.js",
    "session.js",
    "socket.js",
    "view.js",
    "strings-chatbox.js",
    "chatbox.css",
)
_FILES = {
    "chatbox.js": "text/javascript",
    "session.js": "text/javascript",
    "socket.js": "text/javascript",
    "view.js": "text/javascript",
    "strings-chatbox.js": "text/javascript",
    "strings-chatbox-extras.js": "text/javascript",
    "chatbox.css": "text/css",
    "privacy.js": "text/javascript",
    "privacy.css": "text/css",
    "challenge.js": "text/javascript",
    "service.js": "text/javascript",
    "files.js": "text/javascript",
    "uploads.js": "text/javascript",
}
_WIDGET = files("causerie") / "widget"
# The browser modules the chatbox and the inbox share (the socket's protocol, the languages'
# catalogue: docs/inbox.md, "Languages"; the uploads of files): served under
# both /widget/VERSION/ and /app/static/VERSION/, so each imports them from its own folder, and
# each VERSION hashes them.
SHARED = files("causerie") / "client"


def _source(name: str) -> str:
    folder = SHARED if (SHARED / name).is_file() else _WIDGET
    return (folder / name).read_text("utf-8")


_CONTENT = {
    name: encode_static(compact(_source(name), name.endswith(".css")).encode(), media_type)
    for name, media_type in _FILES.items()
}
VERSION = hashlib.sha256(b"".join(_CONTENT[name].body for name in sorted(_CONTENT))).hexdigest()[
    :12
]
_LOADER_SOURCE = compact((_WIDGET / "loader.js").read_text("utf-8").replace("__VERSION__", VERSION))

_SHORT = "public, max-age=300"
_FOREVER = "public, max-age=31536000, immutable"


@lru_cache(maxsize=4)  # one process serves one set of settings (tests build a few)
def loader(session_start: str, temporary_ttl: int) -> Encoded:
    """widget.js for these settings, compressed and tagged."""
    config = json.dumps({"sessionStart": session_start, "temporaryTtl": temporary_ttl})
    return encode(_LOADER_SOURCE.replace('"__CONFIG__"', config).encode(), "text/javascript")


@router.get("/widget.js")
async def widget_js(request: Request, rt: Rt) -> Response:
    encoded = loader(
        rt.settings.session_start, int(rt.settings.temporary_session_ttl.total_seconds())
    )
    return respond(request, encoded, {"Cache-Control": _SHORT, "X-Content-Type-Options": "nosniff"})


@router.get("/widget/websites/{website_id}/look")
async def widget_look(website_id: str, rt: Rt) -> JSONResponse:
    """What the launcher needs to look right before any session exists (strict mode): the
    website's name, colour, side, language and greeting. Public, like the notice page; asks
    nothing of the visitor and stores nothing."""
    website = await get_website(rt, website_id[:64])
    if website is None:
        raise ApiError(404, "website_not_found", f"no website {shown(website_id)}")
    keys = ("color", "position", "locale", "greeting")
    look = {key: website.settings[key] for key in keys if key in website.settings}
    return JSONResponse(
        {"name": website.name, "settings": look},
        headers={
            "Cache-Control": "public, max-age=60",
            "Access-Control-Allow-Origin": "*",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/widget/{version}/{name}")
async def widget_file(request: Request, version: str, name: str) -> Response:
    if name not in _FILES:
        raise ApiError(404, "not_found", f"no widget file {shown(name)}")
    # An old loader asking for an old version gets today's file, cached briefly.
    cache = _FOREVER if version == VERSION else _SHORT
    return respond(
        request,
        _CONTENT[name],
        {
            "Cache-Control": cache,
            # A module imported from another origin needs a CORS grant; these files are public.
            "Access-Control-Allow-Origin": "*",
            "X-Content-Type-Options": "nosniff",
        },
    )
