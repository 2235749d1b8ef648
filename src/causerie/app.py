"""Wiring: builds the ASGI application from settings, a clock and the adapters.

The only module that knows every layer. See docs/architecture.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from causerie import __version__
from causerie.actions.jobs import claim_job
from causerie.actions.presence import do_announce_availability
from causerie.actions.retention import do_purge
from causerie.broker import open_broker
from causerie.clock import Clock, SystemClock
from causerie.counters import open_counters
from causerie.files import open_file_store
from causerie.presence import open_presence
from causerie.realtime.hub import Hub
from causerie.runtime import Runtime
from causerie.settings import Settings
from causerie.store.database import open_store
from causerie.store.migrate import upgrade
from causerie.web import (
    api_v1,
    assets,
    auth_api,
    errors,
    inbox,
    notice,
    privacy_api,
    session_route,
    widget_api,
    widget_privacy,
    ws,
)
from causerie.web.access_log import AccessLog
from causerie.web.cors import OriginCache, WidgetCors
from causerie.web.limits import BodyLimit, body_limits
from causerie.web.sockets import IdleSweeper

log = logging.getLogger("causerie")

PRESENCE_REFRESH = 20.0  # seconds; presence entries live three times as long


async def _purge_forever(rt: Runtime) -> None:
    """Run the retention rules every `purge_interval` (P6, P15), once across all nodes.

    Every node wakes up each interval; the one that claims the job in the database runs it.
    """
    interval = rt.settings.purge_interval
    while True:
        await asyncio.sleep(min(interval.total_seconds(), 60))
        try:
            if await claim_job(rt, "purge", interval):
                await do_purge(rt)
        except Exception:
            log.exception("purge failed; retrying at the next interval")


async def _refresh_presence_forever(rt: Runtime) -> None:
    """Keep this node's presence entries alive (a node that dies has them expire), then repair
    any availability change an outage kept visitors from hearing."""
    announced: dict[str, bool] = {}
    while True:
        await asyncio.sleep(PRESENCE_REFRESH)
        try:
            await rt.presence.refresh()
            websites = [c.removeprefix("website:") for c in rt.hub.channels("website:")]
            await do_announce_availability(rt, websites, announced)
        except Exception as exc:
            log.warning("presence refresh failed: %s", exc)


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await upgrade(settings.database_url)
        store = open_store(settings.database_url)
        files = open_file_store(settings)
        hub = Hub(open_broker(settings.redis_url))
        presence = open_presence(settings.redis_url)
        counters = open_counters(settings.redis_url)
        rt = Runtime(
            settings=settings,
            store=store,
            clock=clock or SystemClock(),
            files=files,
            hub=hub,
            presence=presence,
            counters=counters,
        )
        await hub.start()
        app.state.rt = rt
        tasks = [
            asyncio.create_task(_purge_forever(rt), name="causerie-purge"),
            asyncio.create_task(_refresh_presence_forever(rt), name="causerie-presence"),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await hub.close()
            await presence.close()
            await counters.close()
            await files.close()
            await store.close()

    app = FastAPI(
        title="Causerie",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # No tracing or metrics hooks on each request: nothing to send anywhere (P1), and cheaper.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    errors.install(app)
    # The busiest route: first in the list, and reached directly by `SessionFastPath` below.
    sessions = session_route.SessionRoute()
    app.router.routes.insert(0, sessions.route)
    app.include_router(widget_api.router)
    app.include_router(widget_privacy.router)
    app.include_router(auth_api.router)
    app.include_router(api_v1.router)
    app.include_router(privacy_api.router)
    app.include_router(notice.router)
    app.router.routes.extend(ws.routes)
    app.include_router(assets.router)
    app.include_router(inbox.router)

    @app.get("/api/health", tags=["server"], summary="Liveness")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__})

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = FastAPI.openapi(app)
            document["paths"].setdefault(session_route.PATH, {})["post"] = session_route.OPERATION
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    origin_cache = OriginCache()
    app.state.origin_cache = origin_cache
    app.state.idle_sweeper = IdleSweeper(settings.ws_idle_timeout.total_seconds())
    app.add_middleware(session_route.SessionFastPath, route=sessions)
    app.add_middleware(WidgetCors, cache=origin_cache)
    app.add_middleware(BodyLimit, limits=body_limits(settings))
    if settings.access_log:
        app.add_middleware(AccessLog)
    return app
