"""The agents' API reads a JSON body as RFC 8259 asks of JSON between systems (docs/api.md,
"Bodies"): UTF-8 alone, without a byte order mark, and no name twice in one object.

FastAPI reads a body with `json.loads`, which also takes UTF-16 and UTF-32 and lets the last
of a repeated key win. The chatbox's bodies are read by pydantic's parser
(`web/text_bodies.py`), which refuses any encoding but UTF-8 and lets the last repeated key
win: no Python-level scan is added to that path (docs/api.md says its rule)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Coroutine
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from causerie.domain.errors import shown
from causerie.web.errors import ApiError, is_json_type

Handler = Callable[[Request], Coroutine[Any, Any, Response]]

_NAMES = {
    "utf-8-sig": "UTF-8 with a byte order mark",
    "utf-16": "UTF-16",
    "utf-16-be": "UTF-16",
    "utf-16-le": "UTF-16",
    "utf-32": "UTF-32",
    "utf-32-be": "UTF-32",
    "utf-32-le": "UTF-32",
}


def encoding_fault(raw: bytes) -> str | None:
    """What is wrong with the body's encoding, if it is JSON in another than UTF-8."""
    encoding = json.detect_encoding(raw)
    if encoding == "utf-8":
        return None
    return (
        f"the body is {_NAMES.get(encoding, encoding)}: send JSON in UTF-8 "
        "without a byte order mark (RFC 8259)"
    )


def _once_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ApiError(
                    400,
                    "invalid_json",
                    f"the body is not valid JSON here: the name {shown(key)} is given twice "
                    "in one object",
                )
            seen.add(key)
    return value


def strict_json(raw: bytes) -> Any:
    """`raw` read as JSON; `ApiError` 400 `invalid_json` for another encoding than UTF-8 or a
    name twice in one object; `ValueError` (or `RecursionError`) if it is no JSON at all."""
    fault = encoding_fault(raw)
    if fault is not None:
        raise ApiError(400, "invalid_json", fault)
    return json.loads(raw.decode("utf-8"), object_pairs_hook=_once_each)


def strict_body(handler: Handler) -> Handler:
    """`handler` (FastAPI's, for a route with a JSON body) given the body as `strict_json`
    reads it; a body that is no JSON at all is left to FastAPI's own answer."""

    async def read_strictly(request: Request) -> Response:
        raw = await request.body()
        if raw and is_json_type(request.headers.get("content-type", "")):
            # A body that is no JSON at all gets FastAPI's own 400 (web/errors.py).
            with contextlib.suppress(UnicodeDecodeError, ValueError, RecursionError):
                request._json = strict_json(raw)
        return await handler(request)

    return read_strictly
