"""The chatbox's files: `/widget.js` (the snippet's script) and versioned modules it loads.

`/widget.js` is the one unversioned URL (the snippet names it), so it is cached briefly; it
names the exact version of everything it loads next, which is cached for a year.
"""

from __future__ import annotations

import hashlib
from importlib.resources import files

from fastapi import APIRouter
from starlette.responses import Response

from causerie.web.errors import ApiError

router = APIRouter(include_in_schema=False)

_FILES = {"chatbox.js": "text/javascript", "chatbox.css": "text/css"}
_WIDGET = files("causerie") / "widget"


def compact(source: str) -> str:
    """The source without indentation, blank lines and whole-line comments: the same code in a
    fifth fewer bytes, with no build step. Sound for the widget's files, which keep every string
    and template literal on one line (tests/test_widget_assets.py checks the result)."""
    lines, in_comment = [], False
    for line in source.splitlines():
        text = line.strip()
        if in_comment:
            in_comment = "*/" not in text
            continue
        if text.startswith("/*"):
            in_comment = "*/" not in text
            continue
        if text and not text.startswith("//"):
            lines.append(text)
    return "\n".join(lines) + "\n"


_CONTENT = {name: compact((_WIDGET / name).read_text("utf-8")).encode() for name in _FILES}
VERSION = hashlib.sha256(b"".join(_CONTENT[name] for name in sorted(_CONTENT))).hexdigest()[:12]
_LOADER = compact(
    (_WIDGET / "loader.js").read_text("utf-8").replace("__VERSION__", VERSION)
).encode()

_SHORT = "public, max-age=300"
_FOREVER = "public, max-age=31536000, immutable"


@router.get("/widget.js")
async def widget_js() -> Response:
    return Response(
        _LOADER,
        media_type="text/javascript",
        headers={"Cache-Control": _SHORT, "X-Content-Type-Options": "nosniff"},
    )


@router.get("/widget/{version}/{name}")
async def widget_file(version: str, name: str) -> Response:
    if name not in _FILES:
        raise ApiError(404, "not_found", f"no widget file {name!r}")
    # An old loader asking for an old version gets today's file, cached briefly.
    cache = _FOREVER if version == VERSION else _SHORT
    return Response(
        _CONTENT[name],
        media_type=_FILES[name],
        headers={
            "Cache-Control": cache,
            # A module imported from another origin needs a CORS grant; these files are public.
            "Access-Control-Allow-Origin": "*",
            "X-Content-Type-Options": "nosniff",
        },
    )
