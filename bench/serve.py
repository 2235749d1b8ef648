"""The servers the benches start:
`python -m bench.serve {bare,framework,stack,floor,causerie} --port N`.

Both run on uvicorn with the settings of `causerie serve` (src/causerie/cli/serving.py): uvloop,
httptools, one worker, Causerie's logging config, no uvicorn access log, no proxy headers, no
server header. Causerie reads the rest of its settings from CAUSERIE_* variables as usual; the
bench sets CAUSERIE_ACCESS_LOG=false so that neither server logs a line per request.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp
from starlette.websockets import WebSocket, WebSocketDisconnect

from causerie.logs import logging_config
from causerie.server import collector_paused, options_for

try:
    from causerie.server import started_server
except ImportError:  # a tree from before it (measured with `git archive`, docs/performance.md)
    started_server = uvicorn.Server

LOG_LEVEL = "INFO"
_WS_KEYS = ("ws", "ws_per_message_deflate", "ws_max_size", "ws_ping_interval", "ws_ping_timeout")
# The bare servers get Causerie's default body limit (CAUSERIE_MAX_BODY, 64 KiB) without loading
# Causerie's settings, whose libraries (pydantic-settings, about 12 MiB) a bare server never uses.
DEFAULT_MAX_BODY = 64 * 1024


def ws_options(max_body: int) -> dict[str, Any]:
    """The WebSocket options of `causerie serve` (src/causerie/server.py)."""
    return {k: v for k, v in options_for(LOG_LEVEL, max_body).items() if k in _WS_KEYS}


# The bare endpoint answers with a body shaped and sized like Causerie's answer to a chatbox load,
# so that both servers move the same bytes.
BARE_ANSWER: dict[str, Any] = {
    "token": "x" * 43,
    "session": {
        "id": "a" * 24,
        "state": "temporary",
        "created_at": "2026-01-01T12:00:00.000000Z",
        "profile": {"nickname": None, "email": None, "phone": None, "data": {}},
    },
    "messages": [],
    "website": {
        "id": "b" * 24,
        "name": "Shop",
        "settings": {
            "color": "#3b5bdb",
            "position": "right",
            "greeting": "",
            "locale": None,
            "email_prompt": True,
        },
        "availability": {"online": False},
    },
    "cookie": {"name": "causerie_session_" + "b" * 24, "max_age": 15724800},
}


async def _bare_session(request: Request) -> JSONResponse:
    await request.body()
    return JSONResponse(BARE_ANSWER)


async def _bare_health(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def _bare_echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass


def bare_app() -> ASGIApp:
    """A Starlette JSON endpoint at Causerie's path: reads the body, answers a fixed JSON; and a
    WebSocket at /ws/echo that sends back every text frame (the sockets benches' baseline)."""
    return Starlette(
        routes=[
            Route("/api/widget/v1/websites/{website_id}/session", _bare_session, methods=["POST"]),
            Route("/api/health", _bare_health),
            WebSocketRoute("/ws/echo", _bare_echo),
        ]
    )


def framework_app() -> ASGIApp:
    """The framework's floor (bench/framework.py), imported only for it: the bare servers never
    load pydantic."""
    from bench.framework import framework_app as build

    return build()


def floor_app() -> ASGIApp:
    """The relay's floor (bench/relay_floor.py) at Causerie's WebSocket paths."""
    from bench.relay_floor import FloorRelay

    path = os.environ.get("BENCH_FLOOR_DB")
    floor = FloorRelay(Path(path) if path else None)
    return Starlette(
        routes=[
            Route("/api/health", _bare_health),
            WebSocketRoute("/ws/visitor", floor.visitor),
            WebSocketRoute("/ws/agent", floor.agent),
        ]
    )


def stack_app() -> ASGIApp:
    """The stack Causerie is built on, doing nothing of Causerie's: a FastAPI app with the health
    route only, and SQLAlchemy Core opening the SQLite database at start and reading it once (as
    Causerie reads the schema's version). bench/startup.py starts it beside Causerie to show what
    the libraries alone weigh at rest and cost to the first answer."""
    from fastapi import FastAPI
    from sqlalchemy import create_engine, text

    from causerie.settings import load_settings

    url = load_settings().database_url

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(url)
        with engine.connect() as connection:
            connection.execute(text("SELECT version_num FROM alembic_version")).all()
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(docs_url=None, redoc_url=None, lifespan=lifespan)
    app.add_api_route("/api/health", _bare_health)
    return app


def causerie_app(hooks: bool) -> ASGIApp:
    from causerie.app import create_app
    from causerie.settings import load_settings

    app = create_app(load_settings())
    served: ASGIApp = app
    if hooks:
        from bench.hooks import BenchHooks

        served = BenchHooks(app)
    if os.environ.get("CAUSERIE_BENCH_PROBE"):  # bench/node_probe.py, imported only then
        from bench.node_probe import from_environment

        served = from_environment(served)
    return served


def _max_body(kind: str) -> int:
    if kind not in ("stack", "causerie"):
        return DEFAULT_MAX_BODY
    from causerie.settings import load_settings

    return load_settings().max_body


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("kind", choices=["bare", "framework", "stack", "floor", "causerie"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--hooks", action="store_true", help="install bench.hooks (causerie)")
    args = parser.parse_args()
    apps = {
        "bare": bare_app,
        "framework": framework_app,
        "stack": stack_app,
        "floor": floor_app,
        "causerie": lambda: causerie_app(args.hooks),
    }
    with collector_paused():  # as `causerie serve` builds its app
        app = apps[args.kind]()
    # As `causerie serve` runs it: what the start built frozen once it has started.
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        workers=1,
        log_config=logging_config(LOG_LEVEL),
        access_log=False,
        proxy_headers=False,
        server_header=False,
        # Both servers get the WebSocket options of `causerie serve` (Causerie's settings).
        **ws_options(_max_body(args.kind)),
    )
    started_server(config).run()


if __name__ == "__main__":
    main()
