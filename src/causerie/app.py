"""Wiring: builds the ASGI application from settings, a clock and the adapters.

The only module that knows every layer. See docs/architecture.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.routing import Mount

from causerie import __version__
from causerie.actions.job_kinds import KINDS
from causerie.actions.jobs import do_run_due_jobs, do_schedule_periodic
from causerie.actions.presence import do_announce_availability
from causerie.actions.reports import do_flush_counts, do_keep_days, do_rank_days
from causerie.clock import Clock, SystemClock
from causerie.domain.sessions import known_zone
from causerie.plugins import load_plugins
from causerie.runtime import Runtime
from causerie.settings import Settings
from causerie.store.failures import STORAGE_ERRORS, is_storage_failure
from causerie.web import (
    api_v1,
    assets,
    auth_api,
    encoded,
    errors,
    files_api,
    inbox,
    inbox_tools_api,
    installable,
    mail_api,
    notice,
    privacy_api,
    push_api,
    reports_api,
    shield_api,
    teams_api,
    webhooks_api,
    widget_api,
    widget_privacy,
    widget_ratings,
    ws,
)
from causerie.web.access_log import AccessLog
from causerie.web.app_stack import CauserieApp
from causerie.web.boundary import Boundary
from causerie.web.cors import OriginCache, WidgetCors
from causerie.web.lean_route import LeanRoute, add_routes
from causerie.web.limits import BodyLimit, body_limits
from causerie.web.openapi import publish_error_answers
from causerie.web.responses import JSONResponse
from causerie.web.shield_gate import ShieldGate
from causerie.web.sockets import IdleSweeper
from causerie.wiring import running

log = logging.getLogger("causerie")

PRESENCE_REFRESH = 20.0  # seconds; presence entries live three times as long
REPORT_LOADS_FLUSH = 5.0  # seconds between additions of the chatbox loads to the rollups
JOBS_POLL = 0.5  # seconds between looks for due jobs when there were none
COMPRESS_DELAY = 5.0  # seconds after start before the static files are compressed


async def _work_forever(rt: Runtime) -> None:
    """Run background jobs on this node (docs/architecture.md, "Background work"): every node
    of a deployment does, and each job runs on the one that claims it."""
    scheduled = False
    while True:
        try:
            if not scheduled:
                await do_schedule_periodic(rt, KINDS)
                scheduled = True
            ran = await do_run_due_jobs(rt, KINDS)
        except Exception:
            log.exception("background jobs: the pass failed; again in a moment")
            ran = 0
        if not ran:
            await asyncio.sleep(JOBS_POLL)


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


async def _start_mail(rt: Runtime) -> asyncio.Server | None:
    """Say once whether mail is on; start the listener for replies by mail when asked."""
    settings = rt.settings
    if rt.mailer is None:
        log.info("CAUSERIE_SMTP_URL is not set: no mail is sent (docs/notifications.md)")
    else:
        log.info("mail goes out through %s", rt.mailer.relay)
    if settings.smtp_listen is None:
        return None
    if settings.mail_domain is None:
        log.warning(
            "CAUSERIE_SMTP_LISTEN is set without CAUSERIE_MAIL_DOMAIN: every mail is refused"
        )
    from causerie.web.mail_in import start_listener  # aiosmtpd: only for a listener

    host, port = settings.smtp_listen
    return await start_listener(rt, host, port)


async def _flush_report_counts_forever(rt: Runtime) -> None:
    """Add the chatbox loads and new sessions counted in memory to the reports' rollups every few
    seconds, rank the days' histograms changed meanwhile and keep the local days they lie in."""
    try:
        while True:
            await asyncio.sleep(REPORT_LOADS_FLUSH)
            try:
                await do_flush_counts(rt)
                await do_rank_days(rt)
                await do_keep_days(rt)
            except Exception as exc:
                log.warning("counting chatbox loads failed: %s", exc)
    finally:  # stopping: what was counted since the last pass
        with contextlib.suppress(Exception):
            await do_flush_counts(rt)


async def _compress_later() -> None:
    """The static files' compressed forms (web/encoded.py), made a few seconds after start by a
    child process that a worker thread waits for (its freed heap stays out of the server): a
    server pinned to one core answers its first requests meanwhile. The
    time zones the server knows are listed then too (70 ms, domain/sessions.py `known_zone`),
    rather than by the first chatbox load that names one."""
    await asyncio.sleep(COMPRESS_DELAY)
    await asyncio.to_thread(encoded.warm)
    await asyncio.to_thread(known_zone, "UTC")


def create_app(
    settings: Settings, clock: Clock | None = None, plugins: Iterable[tuple[str, object]] = ()
) -> FastAPI:
    """The application; `plugins`, as (name, plugin), join those installed (docs/plugins.md)."""
    loaded = load_plugins(plugins)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(settings, clock or SystemClock(), loaded) as rt:
            app.state.rt = rt
            listener = await _start_mail(rt)
            tasks = [
                asyncio.create_task(_work_forever(rt), name="causerie-jobs"),
                asyncio.create_task(_refresh_presence_forever(rt), name="causerie-presence"),
                asyncio.create_task(_flush_report_counts_forever(rt), name="causerie-loads"),
                asyncio.create_task(_compress_later(), name="causerie-compress"),
            ]
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                if listener is not None:
                    listener.close()
                    await listener.wait_closed()

    app = CauserieApp(  # telemetry off (P1), and two of FastAPI's layers less (app_stack.py)
        title="Causerie",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    errors.install(app, is_storage_failure, STORAGE_ERRORS)
    publish_error_answers(app)
    app.state.storage_failure = is_storage_failure  # for the sockets (web/sockets.py)
    # A URL that differs by a trailing slash is not redirected: the redirect would be built
    # from the request's Host header. It answers 404 like any unknown path.
    app.router.redirect_slashes = False
    # Each router's routes become the app's own (`web/lean_route.py`, `add_routes`).
    app.router.route_class = LeanRoute
    for router in (
        widget_api.router,
        widget_privacy.router,
        widget_ratings.router,
        auth_api.router,
        api_v1.router,
        inbox_tools_api.router,
        files_api.visitor,
        files_api.agent,
        teams_api.router,
        privacy_api.router,
        push_api.router,
        webhooks_api.router,
        shield_api.router,
        reports_api.router,
        notice.router,
        *mail_api.ROUTERS,
    ):
        add_routes(app, router)
    app.router.routes.extend(ws.routes)
    add_routes(app, assets.router)
    add_routes(app, installable.router)  # before the inbox's catch-all /app/{path}
    add_routes(app, inbox.router)
    for name, routes in loaded.routes():
        app.router.routes.append(Mount(f"/plugins/{name}", routes=routes))

    inbox_url = f"{settings.public_url}/app/"

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        # Built from the public URL, never from the Host header a client sent.
        return RedirectResponse(inbox_url, status_code=302)

    @app.get("/api/health", tags=["server"], summary="Liveness")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__})

    origin_cache = OriginCache()
    app.state.origin_cache = origin_cache
    app.state.idle_sweeper = IdleSweeper(settings.ws_idle_timeout.total_seconds())
    app.add_middleware(ShieldGate)  # inside the CORS grant: a page reads the refusal
    app.add_middleware(BodyLimit, limits=body_limits(settings))  # so does its 413
    app.add_middleware(WidgetCors, cache=origin_cache)
    app.add_middleware(Boundary)
    if settings.access_log:
        app.add_middleware(AccessLog)
    return app
