"""What the OpenAPI document holds once for every route: error answers and credentials.

Every route declares its error answers as references (`web/api_models`, `ERRORS`): FastAPI
then builds no pydantic field for them at start. This module adds what the references point to,
once per document: one `components/responses` entry per answer, whose body is `ErrorOut`, and
the schemas of `ErrorOut`. It also declares the credentials (docs/api.md, "Credentials") as
security schemes, and which each operation takes, so that a client generated from the document
knows how to authenticate.
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


_SCHEMES = {
    "apiToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (`causerie token add`, or POST /api/v1/tokens), with its "
        "scopes read and/or write (x-causerie-scope)",
    },
    "loginCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "causerie_login",
        "description": "The inbox's login (POST /api/v1/auth/login); a request other than "
        "GET, HEAD or OPTIONS also sends X-CSRF-Token with the login's csrf_token",
    },
    "sessionToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "A visitor's session token, as the chatbox load answers it",
    },
}
_AGENT: list[dict[str, list[str]]] = [{"apiToken": []}, {"loginCookie": []}]
_VISITOR: list[dict[str, list[str]]] = [{"sessionToken": []}]
_WIDGET = "/api/widget/v1/"
_OPEN = ("/api/widget/v1/websites/{website_id}/session",)  # its token, if any, is in the body


def _security_of(path: str, operation: dict[str, Any]) -> list[dict[str, list[str]]] | None:
    """The credentials an operation takes: none for a public one; None outside the API."""
    if path.startswith(_WIDGET):
        return [] if path in _OPEN else _VISITOR
    if path.startswith("/api/v1/"):
        return [] if operation.get("x-causerie-access") == "public" else _AGENT
    return None


def _add_security(document: dict[str, Any]) -> None:
    document.setdefault("components", {})["securitySchemes"] = _SCHEMES
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            security = _security_of(path, operation)
            if security is not None:
                operation["security"] = security


def publish_error_answers(app: FastAPI) -> None:
    """Have `app.openapi()` add the error answers and the credentials to each document FastAPI
    builds."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()
        if "responses" not in document.get("components", {}):  # built afresh by FastAPI
            _add_error_answers(document)
            _add_security(document)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
