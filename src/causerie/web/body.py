"""Reading a JSON body into a strict model, whatever its content type.

The chatbox may post JSON as text/plain to avoid a CORS preflight per page view.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from causerie.web.errors import ApiError, describe_validation
from causerie.web.wire_values import new_scan

M = TypeVar("M", bound=BaseModel)


async def parse_body(request: Request, model: type[M]) -> M:
    return parse_json(await request.body(), model)


def parse_json(raw: bytes, model: type[M]) -> M:
    """`raw` read into `model`; `ApiError` 400 if it is not JSON, 422 if it does not fit."""
    try:
        return model.model_validate_json(raw, context=new_scan())
    except ValidationError as exc:
        errors = exc.errors()
        if any(e["type"] == "json_invalid" for e in errors):
            raise ApiError(400, "invalid_json", "the body is not valid JSON") from None
        if any(e["type"] == "model_type" for e in errors) and not errors[0]["loc"]:
            raise ApiError(422, "invalid_request", "the body must be a JSON object") from None
        raise ApiError(422, "invalid_request", describe_validation(list(errors))) from None


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
