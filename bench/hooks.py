"""Two bench-only routes wrapped around a Causerie app, so that the purge-stall bench can act
inside a running server, on its own event loop and store, while a load generator runs:

- `POST /__bench/seed?website=ID&count=N`: insert N temporary sessions whose last access is a
  minute older than the TTL, so expired (through the store's `insert_session`);
- `POST /__bench/purge`: run `do_purge` now, as the server's periodic purge task does, and answer
  how long it took.

Only `bench.serve --hooks` installs them; the throughput benches run the bare app.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

from fastapi import FastAPI
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from bench.seed import seed_sessions, timed_purge
from causerie.runtime import Runtime

PREFIX = "/__bench/"


class BenchHooks:
    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        rt: Runtime = self.app.state.rt
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        action = scope["path"].removeprefix(PREFIX)
        if action == "seed":
            at = rt.clock.now() - rt.settings.temporary_session_ttl - timedelta(minutes=1)
            seconds = await seed_sessions(rt.store, query["website"], int(query["count"]), at)
            response = JSONResponse({"seconds": seconds})
        elif action == "purge":
            response = JSONResponse((await timed_purge(rt)).as_dict())
        else:
            response = JSONResponse({"error": "unknown bench hook"}, status_code=404)
        await response(scope, receive, send)
