"""CORS for the visitor API: only origins some website allows ever get a grant.

A grant only lets a page read the answer; whether the call may act is decided by the action,
which refuses (403, nothing changed) an origin that is not one of *its* website's. So the
middleware can grant on the union of all websites' origins, cached for a few seconds, and keep
the hot path free of an extra query.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable

from cachetools import TTLCache
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from causerie.actions.websites import get_all_origins
from causerie.caching import cached, ttl_cache
from causerie.domain.errors import shown
from causerie.runtime import Runtime

PREFIX = "/api/widget/"
CACHE_SECONDS = 5.0
ALLOW_METHODS = "GET, POST, PATCH, DELETE"
ALLOW_HEADERS = "authorization, content-type"
_VARY = (b"vary", b"Origin")
_EXPOSE = (b"access-control-expose-headers", b"Retry-After")
_ALLOW_ORIGIN = b"access-control-allow-origin"


class OriginCache:
    """The union of every website's origins, read again at most every CACHE_SECONDS."""

    def __init__(self) -> None:
        self._cache: TTLCache[None, frozenset[str]] = ttl_cache(CACHE_SECONDS, max_entries=1)

    def invalidate(self) -> None:
        self._cache.clear()

    def fresh(self) -> frozenset[str] | None:
        """The origins if they need no reading (`get`), without a coroutine; else None."""
        return cached(self._cache, None)

    async def get(self, rt: Runtime) -> frozenset[str]:
        origins = cached(self._cache, None)
        if origins is None:
            origins = self._cache[None] = await get_all_origins(rt)
        return origins


def _origin(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"origin":
            return bytes(value)
    return None


def _is_route(scope: Scope) -> bool:
    """Whether some route of the app takes the path, with any method (a preflight asks about
    another one). Read for preflights only, which browsers keep for `Access-Control-Max-Age`."""
    return any(route.matches(scope)[0] is not Match.NONE for route in scope["app"].router.routes)


class WidgetCors:
    def __init__(self, app: ASGIApp, cache: OriginCache) -> None:
        self.app = app
        self.cache = cache

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Returning the next app's awaitable keeps no frame of this layer alive for the whole
        # life of a WebSocket.
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            return self.app(scope, receive, send)
        return self._cors(scope, receive, send)

    async def _cors(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_origin = _origin(scope)
        if raw_origin is None:
            await self.app(scope, receive, send)
            return
        origin = raw_origin.decode("latin-1")
        origins = self.cache.fresh()
        if origins is None:
            rt: Runtime = scope["app"].state.rt
            origins = await self.cache.get(rt)
        allowed = origin in origins
        if scope["method"] == "OPTIONS":
            if not _is_route(scope):
                # What any request there gets (404): no grant for a path that is no route.
                await self.app(scope, receive, send)
            elif allowed:
                await self._preflight(send, origin)
            else:
                await _refuse_preflight(send, origin)
            return

        async def grant(message: Message) -> None:
            if message["type"] == "http.response.start":
                # ASGI header names are lowercase. A grant replaces any the app set.
                headers = [h for h in message.get("headers", ()) if h[0] != _ALLOW_ORIGIN]
                headers.append(_VARY)
                if allowed:
                    # Retry-After: the chatbox says how long to wait after a 429 (an upload's).
                    headers += [(_ALLOW_ORIGIN, raw_origin), _EXPOSE]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, grant)

    async def _preflight(self, send: Send, origin: str) -> None:
        headers = [
            (b"vary", b"Origin"),
            (b"content-length", b"0"),
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", ALLOW_METHODS.encode()),
            (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
            (b"access-control-max-age", b"600"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


async def _refuse_preflight(send: Send, origin: str) -> None:
    """403 with the API's error body (every answer is JSON, docs/api.md), and no grant."""
    message = f"origin {shown(origin)} is not an allowed origin of any website"
    body = json.dumps({"error": {"code": "origin_not_allowed", "message": message}}).encode()
    headers = [
        (b"vary", b"Origin"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": body})
