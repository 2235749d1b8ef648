"""The error format of the HTTP API: `{"error": {"code": "snake_case", "message": "..."}}`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match

from causerie.domain.errors import (
    SHOWN,
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthenticated,
    Unavailable,
    UnsupportedType,
    cut,
)
from causerie.web.responses import JSONResponse
from causerie.web.wire_values import ERROR_TYPE

log = logging.getLogger("causerie.web")

StorageFailure = Callable[[BaseException], bool]

STATUS = {
    Invalid: 422,
    NotFound: 404,
    Unauthenticated: 401,
    Forbidden: 403,
    Conflict: 409,
    Gone: 410,
    TooLarge: 413,
    UnsupportedType: 415,
    RateLimited: 429,
}
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    410: "gone",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}


class ApiError(Exception):
    """A transport-level error (bad JSON, bad header) raised outside any action."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, object] | None = None,
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, **(extra or {})}},
        status_code=status,
        headers=dict(headers) if headers else None,
    )


_PARTS = ("body", "query", "path", "header", "cookie")


def describe_validation(errors: list[Any], *, from_request: bool = False) -> str:
    """`page.url: String should have at most 2048 characters` for the first few errors.

    `from_request`: the errors are FastAPI's, whose locations start with the part of the
    request (`body`, `query`, ...); only that first step is dropped, so that a field named
    `body` (a message's) is still named."""
    parts = []
    for error in errors[:3]:
        if error.get("type") == ERROR_TYPE:  # names its field itself (web/wire_values.py)
            parts.append(str(error.get("msg")))
            continue
        loc = [cut(str(p)) for p in error.get("loc", ())]  # an unknown field's name, cut
        if from_request and loc and loc[0] in _PARTS:
            loc = loc[1:]
        where = ".".join(loc) or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def answer_error(exc: Exception) -> Response | None:
    """The answer to an action's or the transport's refusal; None for any other exception."""
    if isinstance(exc, DomainError):
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        challenge = getattr(exc, "challenge", None)  # the shield's proof of work to solve
        extra = (
            {"challenge": {"nonce": challenge.nonce, "bits": challenge.bits}} if challenge else None
        )
        status = next((s for kind, s in STATUS.items() if isinstance(exc, kind)), 400)
        return error_response(status, exc.code, exc.message, headers, extra)
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.code, exc.message)
    if isinstance(exc, Unavailable):
        return error_response(
            503,
            "unavailable",
            "a shared service is unreachable; try again shortly",
            {"Retry-After": "5"},
        )
    return None


def failure(exc: BaseException, storage_failure: StorageFailure) -> tuple[int, str, str]:
    """The status, code and message for an exception no action refused: the database cannot
    store (503), or a bug (500). Never the exception's own text: it may hold data or paths."""
    if storage_failure(exc):
        return 503, "storage_unavailable", "the server cannot store data right now; try again"
    return 500, "internal_error", "the server failed to answer; the error is logged"


def answer_storage_failure(exc: Exception, storage_failure: StorageFailure) -> Response | None:
    """503 `storage_unavailable` when the database cannot store; None for any other exception
    (the app's handler for the storage errors then re-raises it, and `_failed` answers 500)."""
    if not storage_failure(exc):
        return None
    log.warning("the database cannot store: %r", exc)
    return _failure_response(exc, storage_failure)


def _failure_response(exc: Exception, storage_failure: StorageFailure) -> Response:
    status, code, message = failure(exc, storage_failure)
    headers = {"X-Content-Type-Options": "nosniff"}  # the outermost layer: past `Boundary`
    if status == 503:
        headers["Retry-After"] = "5"
    return error_response(status, code, message, headers)


def _never(_: BaseException) -> bool:
    return False


def install(
    app: FastAPI,
    storage_failure: StorageFailure = _never,
    storage_errors: tuple[type[Exception], ...] = (),
) -> None:
    """The error format for every refusal and failure. `storage_errors`: the exception types
    `storage_failure` may recognise (`app.py` wires the store's), answered 503 where they are
    raised, so the connection stays usable; any other exception, or one it does not recognise,
    is a bug: 500. Without them (a test's tiny app), every failure is a bug."""

    @app.exception_handler(DomainError)
    @app.exception_handler(ApiError)
    @app.exception_handler(Unavailable)
    async def _refused(_: Request, exc: Exception) -> Response:
        response = answer_error(exc)
        assert response is not None
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "invalid_json", "the body is not valid JSON")
        whole = next(
            (e for e in errors if tuple(e.get("loc", ())) == ("body",) and e["type"] in _WHOLE),
            None,
        )
        if whole is not None:
            return _whole_body_refused(request, whole)
        return error_response(
            422, "invalid_request", describe_validation(errors, from_request=True)
        )

    async def _storage(_: Request, exc: Exception) -> Response:
        response = answer_storage_failure(exc, storage_failure)
        if response is None:
            raise exc  # a bug: answered by `_failed` below
        return response

    for kind in storage_errors:
        app.add_exception_handler(kind, _storage)

    # Starlette's outermost layer calls this for any exception nothing else answered (in a
    # middleware too), then re-raises it, so the server logs the traceback.
    @app.exception_handler(Exception)
    async def _failed(_: Request, exc: Exception) -> Response:
        return _failure_response(exc, storage_failure)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        # Starlette's own words name nothing: say what was asked (a typo in a path, a method).
        path = _shown_path(request.url.path)
        if exc.status_code == 404 and message == "Not Found":
            message = f"nothing at {path}" + (
                " (the API's paths: /api/v1/openapi.json)" if path.startswith("/api/") else ""
            )
        elif exc.status_code == 400 and message == _FASTAPI_UNPARSED:
            # JSON that is no UTF-8 (nor UTF-16 or 32), or nested too deep for `json.loads`.
            return error_response(400, "invalid_json", "the body is not valid JSON")
        elif exc.status_code == 405 and message == "Method Not Allowed":
            message = f"{request.method} is not taken at {path}; it takes {headers['Allow']}"
            if request.method == "OPTIONS" and "origin" in request.headers:
                # A browser's CORS preflight: the chatbox API's are answered before any route
                # (web/cors.py); the agent API is called from the inbox's origin or a server.
                message += "; cross-origin calls (CORS) are granted on /api/widget/ only"
        return error_response(exc.status_code, code, message, headers=headers)


def _shown_path(path: str) -> str:
    """The path as an error names it: each segment of more than `SHOWN` characters cut there,
    with an ellipsis, and 200 characters at most (docs/api.md, "Errors")."""
    parts = path.split("/")
    short = "/".join(p if len(p) <= SHOWN else p[:SHOWN] + "…" for p in parts)
    return short[:200]


# FastAPI's words for a JSON body its parser raised on other than a decoding error.
_FASTAPI_UNPARSED = "There was an error parsing the body"

# Pydantic's words for a body that is missing, or is no JSON object (nor was read as JSON).
_WHOLE = frozenset({"missing", "model_attributes_type", "model_type", "dict_type"})


def _whole_body_refused(request: Request, error: Mapping[str, Any]) -> Response:
    """The answer when a route's JSON body as a whole is missing or unreadable (docs/api.md):
    an empty body is not JSON (400), a body of another content type than JSON is refused (415:
    FastAPI did not read it as JSON), and JSON other than an object does not fit (422)."""
    if error.get("type") == "missing":
        return error_response(400, "invalid_json", "the body is empty: send a JSON object")
    if not is_json_type(request.headers.get("content-type", "")):
        return error_response(
            415,
            "unsupported_media_type",
            "send the body as JSON, with the header Content-Type: application/json",
        )
    return error_response(422, "invalid_request", "the body must be a JSON object")


def is_json_type(content_type: str) -> bool:
    """`application/json`, or `application/SOMETHING+json`, with or without parameters."""
    kind = content_type.partition(";")[0].strip().lower()
    return kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json")
    )


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> str:
    """Every method of the path, for a 405's `Allow`: Starlette's names only those of the first
    route of the path, and FastAPI makes one route per method. Asks the router, method by method
    (a 405 is rare; this costs a pass over the routes per method). `HEAD` goes with `GET`
    (web/boundary.py)."""
    allowed = set()
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.add(method)
    if "GET" in allowed:
        allowed.add("HEAD")
    return ", ".join(sorted(allowed))
