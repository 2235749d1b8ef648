"""One log line per request: method, path (no query string), status, milliseconds. No IP, and
no secret a path carries: a mail's unsubscribe link (a session's id and the signature that
makes the link work) is logged as its route alone."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("causerie.access")

SECRET_PATHS = ("/mail/unsubscribe/",)
"""Routes whose rest of the path is a credential (web/mail_api.py)."""


def loggable_path(path: str) -> str:
    """The path as the access log writes it: a credential in it replaced by `[link]`."""
    for prefix in SECRET_PATHS:
        if path.startswith(prefix):
            return f"{prefix}[link]"
    return path


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # A WebSocket goes straight through, keeping no frame of this layer alive.
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._logged(scope, receive, send)

    async def _logged(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            log.info(
                '"%s %s" %d %.1fms',
                scope["method"],
                loggable_path(scope["path"]),
                status,
                (time.perf_counter() - start) * 1000,
            )
