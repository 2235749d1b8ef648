"""The OpenAPI document's shared error answers (docs/api.md, "Errors").

Every route declares its error answers as references (`web/api_models`, `ERRORS`): FastAPI
then builds no pydantic field for them at start. This module adds what the references point to,
once per document: one `components/responses` entry per answer, whose body is `ErrorOut`, and
the schemas of `ErrorOut`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from causerie.web.api_models import ERROR_ANSWERS, ERROR_RESPONSES_REF, ErrorOut

_SCHEMAS_REF = "#/components/schemas/"


def _error_schemas() -> dict[str, Any]:
    """`ErrorOut` and the models it holds, as FastAPI writes a model's schema."""
    schema = ErrorOut.model_json_schema(ref_template=_SCHEMAS_REF + "{model}", mode="serialization")
    nested: dict[str, Any] = schema.pop("$defs", {})
    return {ErrorOut.__name__: schema, **nested}


def _error_responses() -> dict[str, Any]:
    body = {"application/json": {"schema": {"$ref": _SCHEMAS_REF + ErrorOut.__name__}}}
    return {
        name: {"description": description, "content": body}
        for _, name, description in ERROR_ANSWERS
    }


def _add_error_answers(document: dict[str, Any]) -> None:
    components = document.setdefault("components", {})
    schemas = {**components.get("schemas", {}), **_error_schemas()}
    components["schemas"] = {name: schemas[name] for name in sorted(schemas)}
    components["responses"] = _error_responses()
    # FastAPI writes a description beside each reference; the component has it already.
    for path in document.get("paths", {}).values():
        for operation in path.values():
            for answer in operation.get("responses", {}).values():
                if answer.get("$ref", "").startswith(ERROR_RESPONSES_REF):
                    answer.pop("description", None)


def publish_error_answers(app: FastAPI) -> None:
    """Have `app.openapi()` add the error answers to each document FastAPI builds."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()
        if "responses" not in document.get("components", {}):  # built afresh by FastAPI
            _add_error_answers(document)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
