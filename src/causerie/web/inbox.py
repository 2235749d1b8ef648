"""The agents' inbox at `/app`: a single-page app of plain JavaScript modules, no build step.

See docs/inbox.md. The shell (`/app`, `/app/...`) is never cached and carries a strict
Content-Security-Policy: scripts and styles only from this server, no inline code, no framing.
Its modules and stylesheet are served from `/app/static/VERSION/NAME`, where VERSION hashes the
package version and every file, so they are cached for a year. The inbox talks to the server
only through the public API (`/api/v1`, `/ws/agent`), like any integration.
"""

from __future__ import annotations

import hashlib
from importlib.resources import files

from fastapi import APIRouter, Request
from starlette.responses import Response

from causerie import __version__
from causerie.actions.accounts import LOGIN_COOKIE
from causerie.domain.errors import shown
from causerie.web.assets import SHARED
from causerie.web.compact import compact
from causerie.web.encoded import Encoded, encode_static, respond
from causerie.web.errors import ApiError
from causerie.web.lean_route import LeanRoute

router = APIRouter(include_in_schema=False, route_class=LeanRoute)

_INBOX = files("causerie") / "inbox"
_TYPES = {".js": "text/javascript", ".css": "text/css"}


def _load() -> dict[str, Encoded]:
    """Every module and stylesheet of the package's `inbox` folder (no subfolder), and the
    modules shared with the chatbox (`client`, see causerie.web.assets): the only names
    `/app/static/` serves."""
    found: dict[str, Encoded] = {}
    for entry in [*_INBOX.iterdir(), *SHARED.iterdir()]:
        suffix = entry.name[entry.name.rfind(".") :]
        if entry.is_file() and suffix in _TYPES:
            if entry.name in found:
                raise RuntimeError(f"two inbox files named {entry.name}")
            found[entry.name] = encode_static(
                compact(entry.read_text("utf-8"), suffix == ".css").encode(), _TYPES[suffix]
            )
    return found


_FILES = _load()
FILE_NAMES = tuple(sorted(_FILES))  # what the service worker keeps for offline use (installable)
VERSION = hashlib.sha256(
    __version__.encode() + b"".join(name.encode() + _FILES[name].body for name in sorted(_FILES))
).hexdigest()[:12]
_SHELL = (_INBOX / "index.html").read_text("utf-8").replace("__VERSION__", VERSION).encode()
# The shell for a browser that sent no login cookie: the inbox shows its sign-in form at once,
# without first asking /api/v1/me for a 401 that the browser's console shows a newcomer as an
# error. A cookie that is there but no longer valid still gets its 401 (the login ended).
_SHELL_SIGNED_OUT = _SHELL.replace(b"<body>", b"<body data-signed-out>", 1)
assert _SHELL_SIGNED_OUT != _SHELL, "index.html has no <body> to mark"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_SHELL_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
_SHORT = "public, max-age=300"
_FOREVER = "public, max-age=31536000, immutable"


def _shell(request: Request) -> Response:
    signed_out = LOGIN_COOKIE not in request.cookies
    return Response(
        _SHELL_SIGNED_OUT if signed_out else _SHELL,
        media_type="text/html; charset=utf-8",
        headers=_SHELL_HEADERS,
    )


@router.get("/app")
async def inbox(request: Request) -> Response:
    return _shell(request)


@router.get("/app/static/{version}/{name}")
async def inbox_file(request: Request, version: str, name: str) -> Response:
    found = _FILES.get(name)
    if found is None:
        raise ApiError(404, "not_found", f"no inbox file {shown(name)}")
    # A page loaded before an upgrade asks for its old version: today's file, cached briefly.
    cache = _FOREVER if version == VERSION else _SHORT
    return respond(
        request,
        found,
        {
            "Cache-Control": cache,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


@router.get("/app/{path:path}")
async def inbox_deep_link(request: Request, path: str) -> Response:
    """Any other path under /app is the shell: the inbox routes in the URL's fragment."""
    if path.startswith("static/"):
        raise ApiError(404, "not_found", "no such inbox file")
    return _shell(request)
