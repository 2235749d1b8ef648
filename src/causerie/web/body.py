"""Reading a JSON body into a strict model, whatever its content type.

The chatbox may post JSON as text/plain to avoid a CORS preflight per page view.
"""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect, Request

from causerie.web.errors import ApiError, describe_validation
from causerie.web.strict_json import encoding_fault
from causerie.web.text_bodies import validate_text_body
from causerie.web.wire_values import new_scan

M = TypeVar("M", bound=BaseModel)


async def parse_body(request: Request, model: type[M]) -> M:
    return parse_json(await read_body(request), model)


async def read_body(request: Request) -> bytes:
    """The whole body, as `request.body()` gives it, and kept as it keeps it (`_body`, which
    Starlette's `body()` and `stream()` give back afterwards), read from the messages
    themselves: Starlette's reader runs an async generator in a closing context for it, about
    as much as the rest of reading a chatbox load's body (docs/performance.md, "renewal5")."""
    kept: bytes | None = getattr(request, "_body", None)
    if kept is not None:
        return kept
    receive = request.receive
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect, as Starlette's reader says it
            request._is_disconnected = True
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    request._body = body
    request._stream_consumed = True
    return body


def parse_json(raw: bytes, model: type[M]) -> M:
    """`raw` read into `model`; `ApiError` 400 if it is not JSON, 422 if it does not fit.
    A body of text alone is read on pydantic's fast path first (`web/text_bodies.py`)."""
    parsed = validate_text_body(raw, model)
    if parsed is not None:
        return parsed
    return parse_scanned(raw, model)


def parse_scanned(raw: bytes, model: type[M]) -> M:
    """`parse_json` by the model alone, its scan first (`web/wire_values.py`)."""
    try:
        return model.model_validate_json(raw, context=new_scan())
    except ValidationError as exc:
        errors = exc.errors()
        if any(e["type"] == "json_invalid" for e in errors):
            return _parse_escaped_surrogates(raw, model)
        raise _refusal(exc) from None


def _refusal(exc: ValidationError) -> ApiError:
    """The 422 of a body that is JSON but does not fit the model."""
    errors = exc.errors()
    if any(e["type"] == "model_type" for e in errors) and not errors[0]["loc"]:
        return ApiError(422, "invalid_request", "the body must be a JSON object")
    return ApiError(422, "invalid_request", describe_validation(list(errors)))


def _parse_escaped_surrogates(raw: bytes, model: type[M]) -> M:
    """A body pydantic's parser refused: JSON all the same when a text holds a lone surrogate
    written as an escape (`"\\ud800"`, which JSON's grammar allows and pydantic's parser does
    not), which the model then refuses naming the field (422), as the agents' API does (its
    bodies are read by `json.loads`). Anything else is 400 `invalid_json`."""
    if b"\\u" not in raw:
        raise _not_json(raw)
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _not_json(raw) from None
    try:
        return model.model_validate(value, context=new_scan())
    except ValidationError as exc:
        raise _refusal(exc) from None


def _not_json(raw: bytes) -> ApiError:
    """400 `invalid_json`, naming the encoding of JSON sent in another than UTF-8, as the
    agents' API does (`web/strict_json.py`)."""
    return ApiError(400, "invalid_json", encoding_fault(raw) or "the body is not valid JSON")


def _inline(node: object, defs: dict[str, object]) -> object:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def body_doc(model: type[BaseModel], *, required: bool = True) -> dict[str, object]:
    """`openapi_extra` documenting a body read by `parse_body` (FastAPI does not see it)."""
    schema = model.model_json_schema()
    inlined = _inline(schema, schema.get("$defs", {}))
    return {
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": inlined}},
        }
    }
