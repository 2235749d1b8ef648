"""Bench-only routes wrapped around a Causerie app, so that the purge-stall and loop-lag benches
can act inside a running server, on its own event loop and store, while a load generator runs:

- `POST /__bench/seed?website=ID&count=N`: insert N temporary sessions whose last access is a
  minute older than the TTL, so expired (through the store's `insert_session`);
- `POST /__bench/purge`: run `do_purge` now, as the server's periodic purge task does, and answer
  how long it took;
- `POST /__bench/lag-start`, then `POST /__bench/lag-stop`: a task on the server's event loop
  that sleeps 1 ms again and again and records how late it wakes (`LagProbe`); the stop answers
  the lags, in milliseconds.

Only `bench.serve --hooks` installs them; the throughput benches run the bare app.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from urllib.parse import parse_qs

from fastapi import FastAPI
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from bench.seed import seed_sessions, timed_purge
from causerie.runtime import Runtime

PREFIX = "/__bench/"


class LagProbe:
    """How late the event loop wakes a task that asked to sleep `PROBE_SLEEP` seconds."""

    PROBE_SLEEP = 0.001

    def __init__(self) -> None:
        self.lags_ms: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self.lags_ms = []
        self._task = asyncio.create_task(self._run(), name="bench-lag-probe")

    async def stop(self) -> list[float]:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        return self.lags_ms

    async def _run(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(self.PROBE_SLEEP)
            self.lags_ms.append((time.perf_counter() - start - self.PROBE_SLEEP) * 1000)


class BenchHooks:
    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.lag = LagProbe()

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
        elif action == "lag-start":
            self.lag.start()
            response = JSONResponse({"started": True})
        elif action == "lag-stop":
            response = JSONResponse({"lags_ms": await self.lag.stop()})
        else:
            response = JSONResponse({"error": "unknown bench hook"}, status_code=404)
        await response(scope, receive, send)
