"""One log line per request: method, path (no query string), status, milliseconds. No IP."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("causerie.access")


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
                scope["path"],
                status,
                (time.perf_counter() - start) * 1000,
            )
