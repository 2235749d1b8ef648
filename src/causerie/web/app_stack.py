"""Causerie's FastAPI app: FastAPI's middleware stack without two layers its requests never use.

FastAPI 0.165 puts two layers of its own around every request:

- `ExceptionTelemetryMiddleware`, which hands an exception to the request's telemetry. Causerie
  turns telemetry off (`TELEMETRY_OFF`): no request has any, and the layer only awaits the next.
- `AsyncExitStackMiddleware`, which opens an `AsyncExitStack` for each request, where FastAPI's
  own request handler closes the files it read from a form. Only that handler reads it; a lean
  route (`web/lean_route.py`) never does. Every other `APIRoute` gets the same layer around its
  own app instead (a `LeanRoute` that FastAPI handles, when it is built; any other, such as a
  plugin's, when the stack is built), so its handler finds the stack as before: between the
  router and the handler rather than between the exception handlers and the router, where
  nothing else runs. The chatbox load no longer opens and closes one (docs/performance.md,
  "renewal8"). A plain `APIRoute` added to the app after its first request (none is: the
  app's routes are `LeanRoute`s, a plugin's are in place at start) would find no stack.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.asyncexitstack import AsyncExitStackMiddleware
from fastapi.routing import APIRoute
from fastapi.telemetry import TelemetryConfig
from fastapi.telemetry._asgi import ExceptionTelemetryMiddleware
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp

from causerie.web.lean_route import LeanRoute

# No tracing, metrics or logs hooks on any request: nothing to send anywhere (P1), and cheaper.
TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


class CauserieApp(FastAPI):
    def __init__(self, **options: Any) -> None:
        options.setdefault("telemetry", TELEMETRY_OFF)
        self._telemetry_off = all(
            options["telemetry"].get(name) is False for name in ("tracing", "metrics", "logs")
        )
        super().__init__(**options)

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        give_exit_stacks(self.router.routes)
        unused: tuple[type, ...] = (AsyncExitStackMiddleware,)
        if self._telemetry_off:
            unused += (ExceptionTelemetryMiddleware,)
        return without_layers(stack, unused)


def without_layers(stack: ASGIApp, unused: tuple[type, ...]) -> ASGIApp:
    """`stack` with each layer of a class in `unused` taken out of its chain (each middleware
    holds the next as `app`)."""
    while isinstance(stack, unused):
        stack = stack.app  # type: ignore[attr-defined]
    layer: Any = stack
    while hasattr(layer, "app"):
        following = layer.app
        if isinstance(following, unused):
            layer.app = getattr(following, "app")  # noqa: B009 (each unused class holds one)
        else:
            layer = following
    return stack


def give_exit_stacks(routes: Iterable[BaseRoute]) -> None:
    """Each `APIRoute` other than a `LeanRoute` (which does it when built), in mounts too: its
    app inside FastAPI's `AsyncExitStackMiddleware`, once."""
    for route in routes:
        if isinstance(route, Mount):
            give_exit_stacks(route.routes)
        elif (
            isinstance(route, APIRoute)
            and not isinstance(route, LeanRoute)
            and not isinstance(route.app, AsyncExitStackMiddleware)
        ):
            route.app = AsyncExitStackMiddleware(route.app)
