"""Causerie's route class: FastAPI's `APIRoute`, served with less machinery when it can be.

FastAPI 0.165 handles each request of an `APIRoute` through layers that cost about as much as a
whole Starlette endpoint: two `AsyncExitStack`s (for dependencies with `yield` and uploaded
files), exception handling again inside the route (the app's `ExceptionMiddleware` already maps
every exception, with the same handlers), and `solve_dependencies`, which builds the query
parameters, headers and cookies of every request even for a route that reads none of them.

`LeanRoute` keeps the declaration (the OpenAPI document, the path, the methods, the validation of
parameters and its 422) and, for a route whose signature allows it, replaces only how a request
reaches the endpoint. It allows it when the endpoint is a coroutine function that returns a
`Response` (declared by its return annotation, so there is no response model), takes no body
field (Causerie's routes read their bodies with `web/body.py`), no `Response`, background tasks
or security scopes parameter, and every dependency is an `async def` of the `Request` alone, with
no `yield` and no dependency of its own (`web/deps.py`). Such a route gets the same values
FastAPI would give it: dependencies first, in order, each called once per request, then the
path, query, header and cookie parameters validated by FastAPI's own `request_params_to_args`,
whose errors raise the same `RequestValidationError`; a path parameter declared as a plain `str`
(no constraint, no default) is taken as routing decoded it, since validating a text as a text
can only give it back (the chatbox load's `website_id`: 6% of its CPU). Any other route keeps
FastAPI's handling. `app.dependency_overrides` is not consulted by lean routes (Causerie does
not use it).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi._compat import ModelField
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_typed_return_annotation, request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.asyncexitstack import AsyncExitStackMiddleware
from fastapi.routing import APIRoute, APIRouter
from fastapi.routing import _get_scope_effective_route_context as _route_context
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route, WebSocketRoute, compile_path, get_name
from starlette.types import ASGIApp, Receive, Scope, Send

from causerie.web.strict_json import Handler, strict_body

Dependency = Callable[[Request], Awaitable[Any]]


class LeanRoute(APIRoute):
    """Declared at once for routing, built by FastAPI when first needed.

    FastAPI's `APIRoute.__init__` analyses the endpoint's signature and builds a pydantic
    `TypeAdapter` for each parameter and response model: about a third of the server's start
    for 113 routes. Routing needs only the path's pattern, the methods and the name, so a
    `LeanRoute` holds those from the start and completes itself, with FastAPI's own
    `__init__`, the first time anything else is read: the app that answers its first request,
    the OpenAPI document, a test reading its fields. A method that is not allowed still gets its
    405 without the build (Starlette's `Route.handle` reads only the methods)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        # What routing and `url_path_for` read, as `APIRoute.__init__` sets it.
        self.path = path
        self.endpoint = endpoint
        name = options.get("name")
        self.name = get_name(endpoint) if name is None else name
        self.path_regex, self.path_format, self.param_convertors = compile_path(path)
        self.methods = {method.upper() for method in options.get("methods") or ["GET"]}
        self._declared: dict[str, Any] | None = options

    def __getattr__(self, name: str) -> Any:
        """Any other attribute: the route is built first (called only for a missing one)."""
        options = self.__dict__.get("_declared")
        if options is None or name.startswith("__"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        declared = dict(self.__dict__)
        self._declared = None  # an attribute FastAPI's build looks for is then simply missing
        try:
            self._build(options)
        except BaseException:  # as declared again: the next read tries again, and fails again
            self.__dict__.clear()
            self.__dict__.update(declared)
            raise
        return getattr(self, name)

    def handle(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:  # type: ignore[override]
        """The route's app itself, awaited by the router, for an allowed method outside an
        included router (Causerie includes none: `add_routes`): what `APIRoute.handle` and
        `Route.handle` do then, without their two coroutines. Anything else: theirs."""
        methods = self.methods
        if methods and scope["method"] in methods and _route_context(scope) is None:
            return self.app(scope, receive, send)
        return super().handle(scope, receive, send)

    def _build(self, options: dict[str, Any]) -> None:
        super().__init__(self.path, self.endpoint, **options)
        #: Whether requests skip FastAPI's general handling (tests read it).
        self.lean = False
        dependencies = _plain_dependencies(self.dependant.dependencies)
        if dependencies is not None and self._allows_lean():
            self.app = _lean_app(self.dependant, dependencies)
            self.lean = True
        else:  # FastAPI's handler: its exit stack here, not around every request (app_stack.py)
            self.app = AsyncExitStackMiddleware(self.app)

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        if self.body_field is None or not self.path.startswith("/api/v1/"):
            return handler
        return strict_body(handler)  # the agents' API's JSON bodies (web/strict_json.py)

    def _allows_lean(self) -> bool:
        dependant = self.dependant
        call = dependant.call
        return (
            inspect.iscoroutinefunction(call)
            and _returns_response(call)
            and self.response_field is None
            and self.body_field is None
            and self.max_body_size is None
            and not dependant.body_params
            and dependant.websocket_param_name is None
            and dependant.http_connection_param_name is None
            and dependant.response_param_name is None
            and dependant.background_tasks_param_name is None
            and dependant.security_scopes_param_name is None
        )


def _returns_response(call: Callable[..., Any]) -> bool:
    annotation = get_typed_return_annotation(call)
    return isinstance(annotation, type) and issubclass(annotation, Response)


def _plain_dependencies(dependencies: Sequence[Dependant]) -> list[tuple[str, Dependency]] | None:
    """(name, call) of each dependency if every one is an `async def f(request)`; else None."""
    plain: list[tuple[str, Dependency]] = []
    for dependency in dependencies:
        call = dependency.call
        if (
            dependency.name is None
            or call is None
            or not inspect.iscoroutinefunction(call)
            or dependency.dependencies
            or dependency.path_params
            or dependency.query_params
            or dependency.header_params
            or dependency.cookie_params
            or dependency.body_params
            or dependency.request_param_name is None
            or dependency.websocket_param_name is not None
            or dependency.http_connection_param_name is not None
            or dependency.response_param_name is not None
            or dependency.background_tasks_param_name is not None
            or dependency.security_scopes_param_name is not None
            or dependency.own_oauth_scopes
            or dependency.concurrency is not None
            or not dependency.use_cache
        ):
            return None
        plain.append((dependency.name, call))
    return plain


def _lean_app(dependant: Dependant, dependencies: list[tuple[str, Dependency]]) -> ASGIApp:
    call = dependant.call
    assert call is not None
    request_name = dependant.request_param_name
    plain_path = [
        (field.name, field.alias) for field in dependant.path_params if _plain_text(field)
    ]
    checked_path = [field for field in dependant.path_params if not _plain_text(field)]
    params = [
        (fields, source)
        for fields, source in (
            (checked_path, _path_params),
            (dependant.query_params, _query_params),
            (dependant.header_params, _headers),
            (dependant.cookie_params, _cookies),
        )
        if fields
    ]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        values: dict[str, Any] = {}
        if dependencies:
            solved: dict[Dependency, Any] = {}
            for name, dependency in dependencies:
                if dependency not in solved:
                    solved[dependency] = await dependency(request)
                values[name] = solved[dependency]
        if plain_path:
            path_params = scope["path_params"]
            for name, alias in plain_path:
                values[name] = path_params[alias]
        errors: list[Any] = []
        for fields, source in params:
            found, wrong = request_params_to_args(fields, source(request))
            values.update(found)
            errors += wrong
        if errors:
            raise RequestValidationError(errors)
        if request_name is not None:
            values[request_name] = request
        response = await call(**values)
        if not isinstance(response, Response):  # its annotation said it would be one
            raise TypeError(f"{call.__qualname__} returned {type(response).__name__}")
        await response(scope, receive, send)

    return app


def _plain_text(field: ModelField) -> bool:
    """A parameter whose validation cannot change or refuse a text: `name: str`, nothing more."""
    info = field.field_info
    return (
        info.annotation is str
        and not info.metadata
        and info.is_required()
        and not info.json_schema_extra
    )


def _path_params(request: Request) -> Any:
    return request.path_params


def _query_params(request: Request) -> Any:
    return request.query_params


def _headers(request: Request) -> Any:
    return request.headers


def _cookies(request: Request) -> Any:
    return request.cookies


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """Add `router`'s routes to the app itself, rather than `app.include_router(router)`.

    FastAPI 0.165 keeps an included router as one route of the app that matches the request
    against its routes twice (once to answer whether it matches, once to handle it). A Causerie
    router is complete as declared (its prefix, tags, responses and route class are applied to
    each route when the route is added), and is included without options, so its routes can be
    the app's own: the same OpenAPI document, matched once."""
    for route in router.routes:
        if not isinstance(route, Route | WebSocketRoute | Mount):
            raise TypeError(f"add_routes takes routers of plain routes, not {route!r}")
    app.router.routes.extend(router.routes)
