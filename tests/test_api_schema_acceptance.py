"""What the OpenAPI document declares valid, the server takes (docs/api.md, "The OpenAPI
document"): a request generated from the schema alone (schemathesis's positive data) is never
refused for a field the document declares. Clients and validators generated from the document
sent what the server refused: an empty name, any text as a message's `type`, a canned reply's
shortcut or a label's color of any form, a DPA version other than the one offered, an empty
`from` date, an integer query parameter out of its bounds.

Each operation below is a Hypothesis test (tests/test_api_fuzz.py's machinery), authenticated as
the site's owner by token, with real ids in its path; a refusal (400 or 422) whose message names
one of the operation's fields listed here fails it. Refusals the document cannot declare (an
origin's or an email's form, a signed cursor, one field of two) are outside this list. No NUL in
a text is a rule of the whole API (docs/api.md, "Refused values"), not generated. SQLite only:
the document is the same."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import hypothesis
import pytest
import schemathesis

from tests.conftest import Harness, ServerThread, Site
from tests.test_api_fuzz import SETTINGS, load_schema, real_ids

EXAMPLES = 40
MESSAGE = ("client_id", "type", "body")
DECLARED = {
    "PATCH /api/v1/me": ("name", "language", "unknown notification preference"),
    "POST /api/v1/websites": ("name",),
    "PATCH /api/v1/websites/{website_id}": ("name",),
    "POST /api/v1/websites/{website_id}/teams": ("name",),
    "POST /api/v1/websites/{website_id}/labels": ("name", "color"),
    "POST /api/v1/websites/{website_id}/replies": ("shortcut", "title", "body"),
    "POST /api/v1/websites/{website_id}/dpa": ("version",),
    "POST /api/v1/conversations/{conversation_id}/messages": MESSAGE,
    "POST /api/v1/sessions/{session_id}/messages": MESSAGE,
    "GET /api/v1/websites/{website_id}/reports": ("from", "to"),
    "GET /api/v1/websites/{website_id}/conversations": ("limit",),
    "GET /api/v1/websites/{website_id}/audit": ("limit",),
    "GET /api/v1/websites/{website_id}/stats": ("days",),
    "GET /api/v1/conversations/{conversation_id}/messages": ("limit",),
}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'causerie.db'}"


def test_what_the_document_declares_valid_is_accepted(
    server: ServerThread, http: httpx.Client, harness: Harness, site: Site
) -> None:
    ids = real_ids(http, harness, site)
    headers = {"Authorization": f"Bearer {site.tokens['owner']}"}
    schema = load_schema(server)
    schema.config.generation.update(allow_x00=False)
    refused: dict[str, str] = {}
    tried: set[str] = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        fields = DECLARED.get(operation.label)
        if fields is None:
            continue
        # The field named as refused by itself (not "from (...) is after to", a rule of two).
        naming = re.compile(rf"^({'|'.join(fields)})(:| must| is empty| ')")

        accepted = _accepted(server.url, headers, naming, refused, tried)
        strategy = operation.as_strategy(path_parameters=ids_of(operation, ids))
        hypothesis.settings(SETTINGS, max_examples=EXAMPLES)(
            hypothesis.given(case=strategy)(accepted)
        )()
    assert tried == DECLARED.keys(), sorted(DECLARED.keys() - tried)
    assert not refused, "\n".join(f"{k}: {v}" for k, v in sorted(refused.items()))


def _accepted(
    url: str,
    headers: dict[str, str],
    naming: re.Pattern[str],
    refused: dict[str, str],
    tried: set[str],
) -> Callable[[schemathesis.Case], None]:
    def accepted(case: schemathesis.Case) -> None:
        response = case.call(base_url=url, headers=headers)
        tried.add(case.operation.label)
        if response.status_code in (400, 422):
            message = response.json()["error"]["message"]
            if naming.match(message):
                refused.setdefault(
                    case.operation.label,
                    f"{message!r} for query={case.query!r} body={case.body!r}",
                )

    return accepted


def ids_of(operation: schemathesis.APIOperation, ids: dict[str, str]) -> dict[str, str]:
    return {p.name: ids[p.name] for p in operation.path_parameters}


def test_the_document_declares_what_the_server_enforces(http: httpx.Client) -> None:
    """A few declarations read back, as a generated client reads them."""
    document = http.get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert schemas["OperatorMessageIn"]["properties"]["type"]["enum"] == ["text", "note"]
    assert schemas["DpaIn"]["properties"]["version"]["enum"] == ["2026-11"]
    shortcut = schemas["ReplyIn"]["properties"]["shortcut"]
    assert shortcut["pattern"] == "^[a-z0-9][a-z0-9_-]{0,31}$"
    assert schemas["WebsiteIn"]["properties"]["name"]["minLength"] == 1
    limit = next(
        p
        for p in document["paths"]["/api/v1/websites/{website_id}/conversations"]["get"][
            "parameters"
        ]
        if p["name"] == "limit"
    )
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 100)
