"""Request bodies larger than their route's limit get 413 without being read whole.

Every route takes bodies up to `CAUSERIE_MAX_BODY` (JSON), unless it declares that it takes a
file (`takes_body("file")` in its `openapi_extra`, published in OpenAPI as `x-causerie-body`):
an upload takes `CAUSERIE_MAX_FILE` plus the multipart framing. The limit is the route's, so this
layer learns it only once the router has chosen the route (FastAPI puts it in `scope["route"]`),
which happens before anything reads the body: the first read checks the declared Content-Length
against that limit before a byte is read, and a chunked body is counted as it arrives.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from causerie.settings import Settings

Body = Literal["json", "file"]
BODY_KEY = "x-causerie-body"
# Room for the multipart boundaries and the part's headers around the file itself.
MULTIPART_FRAMING = 64 * 1024


def takes_body(kind: Body) -> dict[str, object]:
    """`openapi_extra` declaring the bodies a route takes; combine with `routes.access(...)`."""
    return {BODY_KEY: kind}


@dataclass(frozen=True)
class Limit:
    size: int
    setting: str  # named in the 413 answer, so a client or an operator knows what to change


def body_limits(settings: Settings) -> dict[Body, Limit]:
    return {
        "json": Limit(settings.max_body, "CAUSERIE_MAX_BODY"),
        "file": Limit(settings.max_file + MULTIPART_FRAMING, "CAUSERIE_MAX_FILE"),
    }


class _TooLarge(Exception):
    pass


class BodyLimit:
    """A route may take more than `CAUSERIE_MAX_BODY`, never less: a declared Content-Length
    within it goes straight through (most requests), with no coroutine of this layer."""

    def __init__(self, app: ASGIApp, limits: Mapping[Body, Limit]) -> None:
        self.app = app
        self.default = limits["json"]
        self.limits = {
            kind: max(limit, self.default, key=lambda x: x.size) for kind, limit in limits.items()
        }

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Anything but HTTP goes straight through: returning the next app's awaitable keeps no
        # frame of this layer alive for the whole life of a WebSocket.
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        declared: int | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
            elif name == b"transfer-encoding":
                chunked = True
        if declared is not None and declared <= self.default.size and not chunked:
            # Within every route's limit, and the server frames the body by its Content-Length:
            # no more can arrive.
            return self.app(scope, receive, send)
        return self._counted(scope, receive, send, declared)

    def _limit_of(self, scope: Scope) -> Limit:
        route = scope.get("route")
        extra = getattr(route, "openapi_extra", None) or {}
        return self.limits.get(extra.get(BODY_KEY, "json"), self.default)

    async def _counted(
        self, scope: Scope, receive: Receive, send: Send, declared: int | None
    ) -> None:
        limit: Limit | None = None
        received = 0
        refused: Limit | None = None  # set once the body went over: the answer is 413
        started = False
        replaced = False

        async def limited_receive() -> Message:
            nonlocal limit, received, refused
            if limit is None:
                # The first read of the body: the router has chosen the route by now.
                limit = self._limit_of(scope)
                if declared is not None and declared > limit.size:
                    refused = limit
                    raise _TooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.size:
                    refused = limit
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started, replaced
            if replaced:
                return
            if message["type"] == "http.response.start":
                started = True
                if refused is not None:
                    # The app turned the refusal into an answer of its own (FastAPI answers 400
                    # to any error while it parses a form): the client gets the 413 instead.
                    replaced = True
                    await _reject(send, refused)
                    return
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            if not started and refused is not None:
                await _reject(send, refused)


async def _reject(send: Send, limit: Limit) -> None:
    body = json.dumps(
        {
            "error": {
                "code": "body_too_large",
                "message": f"the body is larger than {limit.size} bytes, the limit of this "
                f"route ({limit.setting})",
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
