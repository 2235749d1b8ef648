"""What holds for every request and every answer, whatever the route (docs/api.md).

- A URL whose path or query holds a NUL (`%00`) is refused before any route sees it: 422 for
  HTTP, a refused handshake for a WebSocket. The bodies and frames follow the same rule in their
  models (`web/wire_values.py`); ids and filters of the URL reach the database too.
- A query parameter of the API (`/api/`) given more than once is refused (422 naming it).
- Every HTTP answer says `X-Content-Type-Options: nosniff`: no browser guesses a type the server
  did not declare.
- `HEAD` is answered as `GET` without the body (same status and headers, the `Content-Length` of
  the body not sent), on every route and file that answers `GET`, and only there: a path without
  `GET` answers `HEAD` 405 like any method it does not take. FastAPI's routes take no `HEAD` of
  their own, and one rule here keeps each of them (and the OpenAPI document) as declared. Layers
  outside this one (the access log) see the request's own method.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from causerie.web.wire_values import fault

NOSNIFF = (b"x-content-type-options", b"nosniff")


def url_fault(scope: Scope) -> str | None:
    """What is wrong with the request's URL, naming the parameter; None if nothing is."""
    query: bytes = scope.get("query_string", b"")
    # `find`, not `in`: `bytes in bytes` first tries its operand as an integer and pays for
    # the TypeError that raises, on every request (docs/performance.md, "renewal5").
    if query and (query.find(b"%00") >= 0 or query.find(b"\x00") >= 0):
        params = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        for name, value in params:
            if "\x00" in name:
                return "query: parameter names must not contain the NUL character"
            problem = fault({name: value})
            if problem:
                return problem
    if "\x00" in scope.get("path", ""):
        return "path: text must not contain the NUL character"
    if query and query.find(b"&") >= 0 and scope.get("path", "").startswith("/api/"):
        return _repeated(query)
    return None


def _repeated(query: bytes) -> str | None:
    """The API's query parameters are each given once: a repeated one (`?limit=5&limit=6`)
    is refused naming it, rather than one of its values taken silently."""
    seen: set[str] = set()
    for name, _ in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if name in seen:
            return f"{name[:64]}: given more than once; give each query parameter once"
        seen.add(name)
    return None


class Boundary:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] == "websocket":
            if url_fault(scope):
                return send({"type": "websocket.close", "code": 1008})
            # The awaitable itself: no frame of this layer stays alive for the socket's life.
            return self.app(scope, receive, send)
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        problem = url_fault(scope)
        if problem:
            return _refuse(send, problem)
        if scope["method"] == "HEAD":
            return self._with_headers({**scope, "method": "GET"}, receive, send, body=False)
        return self._with_headers(scope, receive, send)

    async def _with_headers(
        self, scope: Scope, receive: Receive, send: Send, *, body: bool = True
    ) -> None:
        async def send_with_headers(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                headers = message.get("headers") or ()
                # Starlette writes header names in lower case: the pair itself is the test.
                if NOSNIFF not in headers:
                    message = {**message, "headers": [*headers, NOSNIFF]}
            elif not body:  # a HEAD: the answer ends, bodiless, with the GET's last part
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _refuse(send: Send, message: str) -> None:
    body = json.dumps({"error": {"code": "invalid_request", "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                NOSNIFF,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
