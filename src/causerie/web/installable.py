"""The inbox as an installable web app (docs/inbox.md, "Installable app"): its manifest
(`/app/manifest.webmanifest`), icons (`/app/icons/NAME.png`, drawn by scripts/draw_icons.py) and
service worker (`/app/sw.js`, scope `/app/`: pushes, and the shell and what was read kept for
reading offline)."""

from __future__ import annotations

import json
from importlib.resources import files

from fastapi import APIRouter
from starlette.responses import Response

from causerie.domain.errors import shown
from causerie.web.compact import compact
from causerie.web.errors import ApiError
from causerie.web.inbox import FILE_NAMES, VERSION
from causerie.web.lean_route import LeanRoute

router = APIRouter(include_in_schema=False, route_class=LeanRoute)

_INBOX = files("causerie") / "inbox"
_ICONS = {
    entry.name: entry.read_bytes()
    for entry in (_INBOX / "icons").iterdir()
    if entry.is_file() and entry.name.endswith(".png")
}
# What the service worker keeps when it installs: the shell and this version's every file.
_SHELL = ["/app/", *(f"/app/static/{VERSION}/{name}" for name in FILE_NAMES)]
_WORKER = (
    compact((_INBOX / "worker" / "sw.js").read_text("utf-8"), False)
    .replace("__VERSION__", VERSION)
    .replace('"__SHELL__"', json.dumps(json.dumps(_SHELL)))
    .encode()
)
MANIFEST = {
    "name": "Causerie inbox",
    "short_name": "Causerie",
    "description": "Answer your websites' visitors.",
    "id": "/app/",
    "start_url": "/app/",
    "scope": "/app/",
    "display": "standalone",
    "background_color": "#ffffff",
    "theme_color": "#3b5bdb",
    "icons": [
        {"src": "/app/icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
        {"src": "/app/icons/icon-512.png", "sizes": "512x512", "type": "image/png"},
        {
            "src": "/app/icons/maskable-512.png",
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        },
    ],
}
_MANIFEST = json.dumps(MANIFEST, indent=1).encode()
_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


@router.get("/app/manifest.webmanifest")
async def manifest() -> Response:
    return Response(
        _MANIFEST,
        media_type="application/manifest+json",
        headers={**_HEADERS, "Cache-Control": "public, max-age=300"},
    )


@router.get("/app/sw.js")
async def service_worker() -> Response:
    # Checked at every visit: a new version of the inbox installs its new worker at once.
    return Response(
        _WORKER,
        media_type="text/javascript",
        headers={**_HEADERS, "Cache-Control": "no-cache", "Service-Worker-Allowed": "/app/"},
    )


@router.get("/app/icons/{name}")
async def icon(name: str) -> Response:
    found = _ICONS.get(name)
    if found is None:
        raise ApiError(404, "not_found", f"no icon {shown(name)}")
    return Response(
        found,
        media_type="image/png",
        headers={**_HEADERS, "Cache-Control": "public, max-age=86400"},
    )
