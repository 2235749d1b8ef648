"""Wiring: builds the ASGI application from settings, a clock and the adapters.

The only module that knows every layer. See docs/architecture.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from causerie import __version__
from causerie.actions.retention import do_purge
from causerie.clock import Clock, SystemClock
from causerie.runtime import Runtime
from causerie.settings import Settings
from causerie.store.database import open_store
from causerie.store.migrate import upgrade
from causerie.web import api_v1, errors, widget_api
from causerie.web.access_log import AccessLog
from causerie.web.cors import OriginCache, WidgetCors
from causerie.web.limits import BodyLimit

log = logging.getLogger("causerie")


async def _purge_forever(rt: Runtime) -> None:
    """Run the retention rules every `purge_interval`, for as long as the server runs (P6, P15)."""
    interval = rt.settings.purge_interval.total_seconds()
    while True:
        await asyncio.sleep(interval)
        try:
            await do_purge(rt)
        except Exception:
            log.exception("purge failed; retrying at the next interval")


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await upgrade(settings.database_url)
        store = open_store(settings.database_url)
        rt = Runtime(settings=settings, store=store, clock=clock or SystemClock())
        app.state.rt = rt
        purge = asyncio.create_task(_purge_forever(rt), name="causerie-purge")
        try:
            yield
        finally:
            purge.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await purge
            await store.close()

    app = FastAPI(
        title="Causerie",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    errors.install(app)
    app.include_router(widget_api.router)
    app.include_router(api_v1.router)

    @app.get("/api/health", tags=["server"], summary="Liveness")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__})

    origin_cache = OriginCache()
    app.state.origin_cache = origin_cache
    app.add_middleware(WidgetCors, cache=origin_cache)
    app.add_middleware(BodyLimit, max_body=settings.max_body)
    if settings.access_log:
        app.add_middleware(AccessLog)
    return app
