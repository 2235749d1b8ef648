"""`CauserieApp` (web/app_stack.py): FastAPI's middleware stack without its telemetry layer and
its exit stack per request; the routes FastAPI handles still find their exit stack."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.asyncexitstack import AsyncExitStackMiddleware
from fastapi.routing import APIRoute
from fastapi.telemetry._asgi import ExceptionTelemetryMiddleware
from starlette.routing import Mount

from causerie.app import create_app
from causerie.clock import ManualClock
from causerie.settings import load_settings
from causerie.web.app_stack import CauserieApp, without_layers
from causerie.web.lean_route import LeanRoute
from causerie.web.responses import JSONResponse


def _layers(app: FastAPI) -> list[type]:
    layer: Any = app.build_middleware_stack()
    found = []
    while layer is not app.router:
        found.append(type(layer))
        layer = layer.app
    return found


def _get(app: FastAPI, *paths: str) -> list[tuple[int, Any]]:
    async def get() -> list[tuple[int, Any]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answers = [await client.get(path) for path in paths]
        return [(a.status_code, a.json()) for a in answers]

    return asyncio.run(get())


def test_the_app_stack_has_neither_layer_down_to_its_router(tmp_path: Path) -> None:
    settings = load_settings(
        environ={}, data_dir=str(tmp_path), database_url=f"sqlite:///{tmp_path}/stack.db"
    )
    layers = _layers(create_app(settings, ManualClock()))
    assert AsyncExitStackMiddleware not in layers
    assert ExceptionTelemetryMiddleware not in layers
    # What is taken out: FastAPI's own app keeps both.
    assert {AsyncExitStackMiddleware, ExceptionTelemetryMiddleware} <= set(_layers(FastAPI()))


def test_telemetry_asked_for_keeps_its_layer() -> None:
    app = CauserieApp(telemetry={"tracing": True, "metrics": False, "logs": False})
    layers = _layers(app)
    assert ExceptionTelemetryMiddleware in layers
    assert AsyncExitStackMiddleware not in layers


def _stack_seen(request: Request) -> dict[str, bool]:
    """A plain `def`: FastAPI handles it (no lean route), reading the exit stack it needs."""
    stack = request.scope.get("fastapi_middleware_astack")
    return {"stack": isinstance(stack, AsyncExitStack)}


def test_routes_fastapi_handles_find_their_exit_stack_and_lean_ones_need_none() -> None:
    app = CauserieApp()
    app.router.route_class = LeanRoute
    app.add_api_route("/handled", _stack_seen)
    app.add_api_route("/lean", _lean_endpoint)
    plugin = APIRouter()  # a plugin's routes: FastAPI's own class, in a mount
    plugin.add_api_route("/handled", _stack_seen)
    app.router.routes.append(Mount("/plugins/p", routes=plugin.routes))
    assert isinstance(plugin.routes[0], APIRoute)
    assert not isinstance(plugin.routes[0], LeanRoute)
    answers = _get(app, "/handled", "/plugins/p/handled", "/lean", "/handled")
    assert answers == [
        (200, {"stack": True}),
        (200, {"stack": True}),
        (200, {"stack": False}),  # the chatbox load's kind of route: no stack opened for it
        (200, {"stack": True}),
    ]
    lean = next(r for r in app.router.routes if getattr(r, "path", "") == "/lean")
    assert isinstance(lean, LeanRoute) and lean.lean


async def _lean_endpoint(request: Request) -> JSONResponse:
    return JSONResponse({"stack": "fastapi_middleware_astack" in request.scope})


def test_without_layers_takes_out_each_one_wherever_it_is() -> None:
    class Layer:
        def __init__(self, app: Any) -> None:
            self.app = app

    class Unused(Layer):
        pass

    end = object()
    top = Unused(Layer(Unused(Unused(Layer(end)))))
    kept: Any = without_layers(top, (Unused,))
    assert type(kept) is Layer and type(kept.app) is Layer and kept.app.app is end
