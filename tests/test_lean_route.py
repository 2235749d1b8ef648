"""`LeanRoute` (web/lean_route.py): routes whose signature allows it are served without
FastAPI's general request handling, with the same values, validation, errors and OpenAPI
document; every route of the app is one, and no router stays included as a router."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.routing import APIRoute
from starlette.responses import Response

from causerie.app import create_app
from causerie.clock import ManualClock
from causerie.domain.errors import NotFound
from causerie.settings import load_settings
from causerie.web import errors
from causerie.web.lean_route import LeanRoute, add_routes
from causerie.web.responses import JSONResponse

calls: list[str] = []


async def who(request: Request) -> str:
    calls.append("who")
    return request.headers.get("x-who", "nobody")


async def nested(name: Annotated[str, Depends(who)]) -> str:
    return name


Who = Annotated[str, Depends(who)]


def _router(route_class: type[APIRoute]) -> APIRouter:
    router = APIRouter(prefix="/t", tags=["t"], route_class=route_class)

    @router.get("/items/{item_id}", summary="An item")
    async def item(
        item_id: Annotated[str, PathParam(max_length=5)],
        first: Who,
        again: Who,
        n: Annotated[int, Query(ge=1)] = 1,
    ) -> JSONResponse:
        if item_id == "gone":
            raise NotFound("no such item", "item_not_found")
        return JSONResponse({"item": item_id, "who": [first, again], "n": n})

    @router.get("/named/{name}/{n}")
    async def named(name: str, n: int) -> JSONResponse:
        # `name`: a plain text, taken as routing decoded it; `n` still validated
        return JSONResponse({"name": name, "n": n})

    @router.get("/nested")
    async def with_nested(name: Annotated[str, Depends(nested)]) -> JSONResponse:
        return JSONResponse({"name": name})

    @router.get("/model")
    async def with_model() -> dict[str, Any]:
        return {"plain": True}

    return router


def _app(route_class: type[APIRoute]) -> FastAPI:
    app = FastAPI(telemetry={"tracing": False, "metrics": False, "logs": False})
    errors.install(app)
    add_routes(app, _router(route_class))
    return app


def _get(app: FastAPI, path: str, **headers: str) -> httpx.Response:
    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get(path, headers=headers)

    return asyncio.run(get())


def test_only_routes_whose_signature_allows_it_are_lean() -> None:
    lean = {r.path: r.lean for r in _app(LeanRoute).routes if isinstance(r, LeanRoute)}
    # A dependency with a dependency of its own, or a response model: FastAPI's handling.
    assert lean == {
        "/t/items/{item_id}": True,
        "/t/named/{name}/{n}": True,
        "/t/nested": False,
        "/t/model": False,
    }


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/t/items/abc?n=3", {"x-who": "ann"}),
        ("/t/items/abc", {}),
        ("/t/items/toolongid", {}),  # the path parameter's constraint: 422
        ("/t/items/abc?n=0", {}),  # the query parameter's: 422
        ("/t/items/abc?n=x", {}),
        ("/t/items/gone", {}),  # an action's refusal, mapped by the app's handlers: 404
        ("/t/named/caf%C3%A9%20au%20lait/2", {}),
        ("/t/named/x/two", {}),  # a plain text beside a refused integer: 422 for the integer
        ("/t/nested", {"x-who": "bob"}),
        ("/t/model", {}),
    ],
)
def test_a_lean_route_answers_as_fastapi_does(path: str, headers: dict[str, str]) -> None:
    answers = []
    for route_class in (APIRoute, LeanRoute):
        calls.clear()
        response = _get(_app(route_class), path, **headers)
        answers.append((response.status_code, response.json(), list(calls)))
    assert answers[0] == answers[1]


def test_a_lean_route_publishes_the_same_openapi_document() -> None:
    assert _app(LeanRoute).openapi() == _app(APIRoute).openapi()


def test_every_route_of_the_app_is_a_lean_route_added_to_the_app_itself(tmp_path: Path) -> None:
    settings = load_settings(
        environ={}, data_dir=str(tmp_path), database_url=f"sqlite:///{tmp_path}/lean.db"
    )
    app = create_app(settings, ManualClock())
    api_routes = [r for r in app.router.routes if isinstance(r, APIRoute)]
    assert api_routes and all(isinstance(r, LeanRoute) for r in api_routes)
    assert all(type(r).__name__ != "_IncludedRouter" for r in app.router.routes)
    chatbox_load = next(r for r in api_routes if r.path.endswith("/websites/{website_id}/session"))
    assert chatbox_load.lean


def test_add_routes_refuses_a_router_that_includes_another() -> None:
    outer = APIRouter()
    outer.include_router(APIRouter(prefix="/x"))
    with pytest.raises(TypeError):
        add_routes(FastAPI(), outer)


def test_a_lean_endpoint_that_returns_no_response_is_a_bug() -> None:
    router = APIRouter(route_class=LeanRoute)

    async def liar() -> Response:
        return {"not": "a response"}  # type: ignore[return-value]

    router.add_api_route("/liar", liar)
    app = FastAPI()
    add_routes(app, router)
    with pytest.raises(TypeError):
        _get(app, "/liar")


def _request(app: FastAPI, method: str, path: str) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.request(method, path)

    return asyncio.run(call())


def _included(route_class: type[APIRoute]) -> FastAPI:
    """The router included as FastAPI includes routers, rather than by `add_routes`."""
    app = FastAPI(telemetry={"tracing": False, "metrics": False, "logs": False})
    errors.install(app)
    app.include_router(_router(route_class))
    return app


@pytest.mark.parametrize("make_app", [_app, _included], ids=["added", "included"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/t/items/abc?n=2"),
        ("POST", "/t/items/abc"),  # a method the route does not take: 405 and its Allow
        ("DELETE", "/t/named/x/2"),
        ("GET", "/t/items/toolongid"),
        ("GET", "/t/nowhere"),
    ],
)
def test_a_lean_route_handles_methods_and_inclusion_as_fastapi_does(
    make_app: Any, method: str, path: str
) -> None:
    answers = []
    for route_class in (APIRoute, LeanRoute):
        response = _request(make_app(route_class), method, path)
        answers.append((response.status_code, response.headers.get("allow"), response.text))
    assert answers[0] == answers[1]


def _built(route: LeanRoute) -> bool:
    return route.__dict__.get("_declared") is None


def test_a_lean_route_is_built_by_its_first_request_not_by_a_refused_method() -> None:
    app = _app(LeanRoute)
    routes = {r.path: r for r in app.routes if isinstance(r, LeanRoute)}
    assert not any(_built(route) for route in routes.values())
    assert _request(app, "POST", "/t/items/abc").status_code == 405  # the methods alone
    assert _request(app, "GET", "/t/nowhere").status_code == 404
    assert not any(_built(route) for route in routes.values())
    assert _get(app, "/t/items/abc").status_code == 200
    assert [path for path, route in routes.items() if _built(route)] == ["/t/items/{item_id}"]
    assert app.url_path_for("named", name="x", n="2") == "/t/named/x/2"  # no build either
    assert [path for path, route in routes.items() if _built(route)] == ["/t/items/{item_id}"]


def test_a_lean_route_built_later_holds_what_fastapi_builds_at_once() -> None:
    eager = {r.path: r for r in _app(APIRoute).routes if isinstance(r, APIRoute)}
    lean = [r for r in _app(LeanRoute).routes if isinstance(r, LeanRoute)]
    assert len(lean) == len(eager)
    for route in lean:
        twin = eager[route.path]
        assert (route.name, route.methods, route.path_format, route.unique_id) == (
            twin.name,
            twin.methods,
            twin.path_format,
            twin.unique_id,
        )
        assert _parameters(route.dependant) == _parameters(twin.dependant)
        assert (route.response_field is None) == (twin.response_field is None)


def test_a_route_fastapi_refuses_is_refused_at_each_build_until_fixed() -> None:
    router = APIRouter(route_class=LeanRoute)

    async def no_body() -> Response:
        return Response()

    # FastAPI refuses a response model on a status code that has no body, as it builds the route.
    router.add_api_route("/gone", no_body, response_model=dict, status_code=204)
    (route,) = router.routes
    assert isinstance(route, LeanRoute)
    for _ in range(2):
        with pytest.raises(AssertionError, match="must not have a response body"):
            route.dependant  # noqa: B018
    assert not _built(route)


def _parameters(dependant: Any) -> list[list[str]]:
    kinds = ("path_params", "query_params", "header_params", "body_params", "dependencies")
    return [[str(item.name) for item in getattr(dependant, kind)] for kind in kinds]


_COUNT_BUILT = """
import sys
from causerie.app import create_app
from causerie.clock import ManualClock
from causerie.settings import load_settings
from causerie.web.lean_route import LeanRoute

folder = sys.argv[1]
settings = load_settings(environ={}, data_dir=folder, database_url=f"sqlite:///{folder}/lazy.db")
app = create_app(settings, ManualClock())
lean = [r for r in app.router.routes if isinstance(r, LeanRoute)]
built = lambda: sum(r.__dict__.get("_declared") is None for r in lean)
print(len(lean), built(), end=" ")
app.openapi()
print(built())
"""


def test_the_app_builds_no_route_at_start(tmp_path: Path) -> None:
    # In a process of its own: the routers are module-level objects, which other tests build.
    done = subprocess.run(
        [sys.executable, "-c", _COUNT_BUILT, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    routes, built_at_start, built_for_the_document = map(int, done.stdout.split())
    assert routes > 100
    assert built_at_start == 0
    assert built_for_the_document == routes  # the document reads every route
